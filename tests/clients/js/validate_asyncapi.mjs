// Validate an AsyncAPI document with the official parser (@asyncapi/parser).
// Usage: node tests/clients/js/validate_asyncapi.mjs < document.json
// Prints one JSON object: {version, errors: [...], warnings: n, channels, operations, messages}.
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const parser = new Parser();
const { document, diagnostics } = await parser.parse(Buffer.concat(chunks).toString("utf8"));
const describe = (d) => ({ code: d.code, message: d.message, path: d.path.join(".") });
console.log(
  JSON.stringify({
    version: document?.version() ?? null,
    errors: diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(describe),
    warnings: diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).map(describe),
    channels: document ? document.channels().all().map((c) => c.address()) : [],
    operations: document ? document.operations().all().map((o) => o.id()) : [],
    messages: document ? document.allMessages().all().map((m) => m.id()) : [],
  }),
);
