// Used by checklist_rules.rs: reads [{template, answers}] as JSON on stdin (answers as the page
// holds them) and prints, for each, what assets/checklist-rules.js makes of it:
// {wire: the answers the page sends, problems: [[item, code]], findings: [item]}.
'use strict';
const path = require('path');
const R = require(path.join(__dirname, '..', 'assets', 'checklist-rules.js'));

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({ template, answers }) => {
    const answerOf = (id) => answers[id] || {};
    const states = R.evaluate(template, answerOf);
    return { wire: R.wire(template, answers, states), ...R.judge(template, answerOf) };
  });
  process.stdout.write(JSON.stringify(out));
});
