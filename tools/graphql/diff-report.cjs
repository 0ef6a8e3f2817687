// graphql-inspector's completion handler for `diff --onComplete`: writes the changes it
// found as JSON ({breaking, dangerous, safe}: lists of messages) to the file named by
// SCHEMA_DIFF_REPORT, instead of exiting 1 on a breaking one. tests/test_schema_diff.py
// decides what fails.
const fs = require('fs');

module.exports = ({ breakingChanges, dangerousChanges, nonBreakingChanges }) => {
  const messages = (changes) => changes.map((change) => change.message);
  const report = {
    breaking: messages(breakingChanges),
    dangerous: messages(dangerousChanges),
    safe: messages(nonBreakingChanges),
  };
  fs.writeFileSync(process.env.SCHEMA_DIFF_REPORT, JSON.stringify(report, null, 1));
};
