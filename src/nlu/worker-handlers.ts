/**
 * The frozen map from job kind to the function a worker runs. A job selects its handler by key only.
 * @module
 */
import { type LogregJob, runLogregJob } from './classifiers/logreg-jobs.js'
import { runSvmJob, type SvmJob } from './classifiers/svm-jobs.js'

export type WorkerJob = SvmJob | LogregJob

type Handler = (shared: never, job: never) => void

export const WORKER_HANDLERS: Readonly<Record<WorkerJob['kind'], Handler>> = Object.freeze({
  svm: runSvmJob as Handler,
  logreg: runLogregJob as Handler,
})
