/**
 * Every command group, registered in this order. Each module only declares its commands and options; the work
 * happens in the library modules it calls, imported lazily inside the action.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export type RegisterCommands = (program: Command, io: CliIO) => void

export const COMMAND_MODULES: ReadonlyArray<() => Promise<{ register: RegisterCommands }>> = [
  () => import('./config.js'),
  () => import('./report.js'),
  () => import('./registry.js'),
  // ── nlu ──
  () => import('./nlu.js'),
  // ── data ──
  () => import('./init.js'),
  () => import('./data.js'),
  // ── eval ──
  () => import('./eval.js'),
  // ── pipeline ──
  () => import('./pipeline.js'),
  // ── review ──
  () => import('./review.js'),
  // ── serve ──
  () => import('./serve.js'),
  // ── store ──
  () => import('./store.js'),
  // ── monitor ──
  () => import('./monitor.js'),
]
