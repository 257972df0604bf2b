import { runLearnerPerf } from '/work/wt-perf/src/perf/learners.js';
const r = runLearnerPerf({ model: 'gru', hidden: 128, B: [1], T: [2000], learners: [process.argv[2]!] });
console.log(r.map((x) => `${x.learner} ${x.usPerStep.toFixed(1)} ${x.inferenceUsPerStep.toFixed(1)} ${(x.usPerStep / x.inferenceUsPerStep).toFixed(2)}`).join('\n'));
