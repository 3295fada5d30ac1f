/**
 * CI templates written by `intentops init --ci github|gitlab`: on a pull/merge request validate, train, test,
 * compare and post the report; on the main branch the same, then publish and promote through the gate; on a
 * nightly schedule `intentops retrain`. `.intentops/` is cached between runs so unchanged stages are not redone.
 * Secrets and variables they read are documented in docs/ci.md.
 * @module
 */
import path from 'node:path'
import { createError } from '../errors.js'
import { pathExists, writeFileAtomic } from '../util/fs.js'
import { VERSION } from '../version.js'

export const CI_PROVIDERS = ['github', 'gitlab'] as const
export type CiProvider = (typeof CI_PROVIDERS)[number]

export const CI_FILES: Record<CiProvider, string> = {
  github: '.github/workflows/intentops.yml',
  gitlab: '.gitlab-ci.yml',
}

export interface CiTemplateOptions {
  /** The branch that deploys. Default `main`. */
  mainBranch?: string
  /** intentops version installed in CI. Default: this one. */
  version?: string
  /** Nightly retrain schedule, cron syntax (UTC). */
  cron?: string
}

export function githubWorkflow(options: CiTemplateOptions = {}): string {
  const main = options.mainBranch ?? 'main'
  const version = options.version ?? VERSION
  const cron = options.cron ?? '17 3 * * *'
  const setup = `      - uses: actions/checkout@v4
        with:
          fetch-depth: 0 # the report diffs the data against the base branch
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - name: Install intentops
        run: npm install --global intentops@${version}
      - name: Cache pipeline state
        uses: actions/cache@v4
        with:
          path: .intentops/
          key: intentops-\${{ github.ref_name }}-\${{ hashFiles('intentops.yml', 'data/**', 'tests/**') }}
          restore-keys: |
            intentops-\${{ github.ref_name }}-
            intentops-${main}-`
  // Pull requests and pushes to main run the same checks before they part ways.
  const checks = `      - name: Validate
        run: intentops pipeline run --until validate
      - name: Train
        run: intentops pipeline run --until train
      - name: Test
        run: intentops pipeline run --until test`
  const report = `      - name: Keep the report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: intentops-report
          path: .intentops/report/
          if-no-files-found: ignore`
  return `# Written by \`intentops init --ci github\`; see docs/ci.md for the secrets it reads.
name: intentops

on:
  pull_request:
  push:
    branches: [${main}]
  schedule:
    - cron: "${cron}" # nightly: retrain with the reviewed corrections
  workflow_dispatch:

permissions:
  contents: write # retrain pushes a branch with the exported reviews
  pull-requests: write # the report comment
  statuses: write # the commit status

# One pipeline per branch at a time: promotions never race.
concurrency:
  group: intentops-\${{ github.ref }}
  cancel-in-progress: false

env:
  INTENTOPS_SIGNING_KEY: \${{ secrets.INTENTOPS_SIGNING_KEY }}
  INTENTOPS_WEBHOOK_URL: \${{ secrets.INTENTOPS_WEBHOOK_URL }}
  INTENTOPS_ADMIN_TOKEN: \${{ secrets.INTENTOPS_ADMIN_TOKEN }}
  AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
  AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}

jobs:
  pull-request:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    steps:
${setup}
${checks}
      - name: Compare with production and post the report
        run: intentops pipeline run --no-publish
        env:
          GITHUB_TOKEN: \${{ secrets.GITHUB_TOKEN }}
${report}

  main:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    steps:
${setup}
${checks}
      - name: Compare, gate, publish and promote
        run: intentops pipeline run
${report}

  nightly:
    if: github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'
    runs-on: ubuntu-latest
    steps:
${setup}
      - name: Git identity for the export commit
        run: git config user.name "intentops" && git config user.email "intentops@users.noreply.github.com"
      # The exported reviews are committed on a new branch and pushed, so the promoted model's lineage points at a
      # commit that exists; open a pull request from it to bring the examples into ${main}.
      - name: Retrain with reviewed corrections
        run: intentops retrain --git-branch intentops/reviews-\${{ github.run_id }}
      - name: Push the branch with the exported reviews
        run: git push origin HEAD
${report}
`
}

export function gitlabCi(options: CiTemplateOptions = {}): string {
  const version = options.version ?? VERSION
  return `# Written by \`intentops init --ci gitlab\`; see docs/ci.md for the variables it reads.
# The nightly retrain runs from a pipeline schedule (CI/CD > Schedules), e.g. "17 3 * * *".
stages: [validate, train, test, report, deploy, retrain]

default:
  image: node:20
  before_script:
    - npm install --global intentops@${version}
  cache:
    key: intentops-$CI_COMMIT_REF_SLUG
    paths:
      - .intentops/

variables:
  GIT_DEPTH: "0" # the report diffs the data against the target branch

.on-change:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"

validate:
  stage: validate
  extends: .on-change
  script:
    - intentops pipeline run --until validate

train:
  stage: train
  extends: .on-change
  script:
    - intentops pipeline run --until train

test:
  stage: test
  extends: .on-change
  script:
    - intentops pipeline run --until test

report:
  stage: report
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
  script:
    - intentops pipeline run --no-publish
  artifacts:
    when: always
    paths:
      - .intentops/report/

promote:
  stage: deploy
  resource_group: intentops-production # one promotion at a time
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"
  script:
    - intentops pipeline run
  artifacts:
    when: always
    paths:
      - .intentops/report/

retrain:
  stage: retrain
  resource_group: intentops-production
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
  script:
    - git config user.name "intentops" && git config user.email "intentops@noreply.$CI_SERVER_HOST"
    # exported reviews go on a new branch, pushed so the promoted model's lineage points at a commit that exists
    - intentops retrain --git-branch intentops/reviews-$CI_PIPELINE_ID
    - git push "https://oauth2:$INTENTOPS_GITLAB_TOKEN@$CI_SERVER_HOST/$CI_PROJECT_PATH.git" HEAD
  artifacts:
    when: always
    paths:
      - .intentops/report/
`
}

/** Write the template for `provider` into the project `dir`; returns the path written, relative to `dir`. */
export async function writeCiTemplate(
  dir: string,
  provider: CiProvider,
  options: CiTemplateOptions & { force?: boolean } = {},
): Promise<string> {
  const rel = CI_FILES[provider]
  const file = path.join(dir, rel)
  if (!options.force && (await pathExists(file))) throw createError('ERR_CI_TEMPLATE_EXISTS', { file: rel })
  await writeFileAtomic(file, provider === 'github' ? githubWorkflow(options) : gitlabCi(options))
  return rel
}
