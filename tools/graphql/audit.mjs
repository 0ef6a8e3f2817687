// The graphql-http audit of a served /graphql (the GraphQL-over-HTTP spec's MUSTs, SHOULDs
// and MAYs), printed as one JSON array: {id, name, status, reason?, statusCode?, body?}.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const report = [];
for (const result of results) {
  const row = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    row.reason = result.reason;
    row.statusCode = result.response.status;
    row.contentType = result.response.headers.get('content-type');
    // The body may have been read by the audit already; what is left helps a failure.
    row.body = await result.response.text().catch(() => '(read by the audit)');
  }
  report.push(row);
}
process.stdout.write(JSON.stringify(report, null, 1) + '\n');
