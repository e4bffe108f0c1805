// Checks Cypher statements with Neo4j's own parser and linter (@neo4j-cypher/language-support).
// Input on stdin: a JSON array of statements. Output: a JSON array with, per statement, the
// error diagnostics (severity 1), leaving out "Parameter $x is not defined" (the driver binds
// parameters at run time).
import { lintCypherQuery } from '@neo4j-cypher/language-support';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const statements = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const out = statements.map((query) =>
  lintCypherQuery(query, {}).diagnostics
    .filter((d) => d.severity === 1 && !/^Parameter \$\w+ is not defined/.test(d.message))
    .map((d) => d.message));
process.stdout.write(JSON.stringify(out));
