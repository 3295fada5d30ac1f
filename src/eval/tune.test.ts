import { afterAll, describe, expect, it } from 'vitest'
import { removeTravelProjects, writeTravelProject } from '../../test/helpers/travel-data.js'
import { defaultConfig } from '../config/defaults.js'
import { loadTrainingData } from '../data/load.js'
import { runTrial } from './jobs.js'
import { effectivePipeline, planTrials } from './tune.js'

afterAll(removeTravelProjects)

describe('tuning trials', () => {
  it('are self-contained JSON specs; running one gives the same result anywhere', async () => {
    const p = writeTravelProject({ perIntent: 8 })
    const data = await loadTrainingData([p.train], { root: p.dir })
    const config = defaultConfig()
    const specs = planTrials(data, {
      config,
      pipeline: effectivePipeline(config),
      space: [{ step: 'classifier', param: 'C', values: [0.5, 2], log: false, integer: false, steps: 5 }],
      method: 'grid',
      folds: 2,
      seed: 9,
    })
    expect(specs).toHaveLength(2)
    const wire = JSON.parse(JSON.stringify(specs[1]))
    expect(wire).toEqual(specs[1])
    expect(wire.config.pipeline.find((s: { name?: string }) => s.name === 'classifier')).toMatchObject({ C: 2 })
    const a = await runTrial(specs[1]!, data)
    const b = await runTrial(wire, data)
    expect(a.status).toBe('ok')
    expect({ ...a, durationMs: 0, trainingMs: 0 }).toEqual({ ...b, durationMs: 0, trainingMs: 0 })
  })

  it('records a value a component refuses as a failed trial', async () => {
    const p = writeTravelProject({ perIntent: 6 })
    const data = await loadTrainingData([p.train], { root: p.dir })
    const config = defaultConfig()
    const [spec] = planTrials(data, {
      config,
      pipeline: effectivePipeline(config),
      space: [{ step: 'classifier', param: 'C', values: [-1], log: false, integer: false, steps: 5 }],
      method: 'grid',
      folds: 2,
    })
    const r = await runTrial(spec!, data)
    expect(r.status).toBe('failed')
    expect(r.error?.code).toBe('ERR_NLU_PARAM_INVALID')
    expect(r.score).toBeUndefined()
  })
})
