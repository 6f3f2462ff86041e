#!/usr/bin/env node
// Parses and analyses KQL with Microsoft's Kusto.Language (the engine behind the
// Log Analytics editor) against a declared workspace schema.
//
// stdin:  {"schema": {"database": "...", "tables": {"Syslog": {"TimeGenerated": "datetime", ...}}},
//          "queries": {"name": "KQL text", ...}}
// stdout: {"name": {"diagnostics": [{severity, code, message, text, start}],
//                   "lets": [{name, kind, value}], "shape": [...]}, ...}
// "lets" lists each `let` statement's name, the syntax kind of its value and, for
// literals, the decoded literal value; "shape" is the syntax tree (node kinds and
// token texts, string literal texts replaced by a placeholder), so two renderings
// that differ only in literal values have the same shape.
"use strict";
const path = require("path");
const fs = require("fs");

const dir = path.join(__dirname, "node_modules", "@kusto", "language-service-next");
require(path.join(dir, "bridge.js"));
require(path.join(dir, "Kusto.Language.Bridge.js"));
/* global Kusto */
const K = Kusto.Language;
const S = K.Symbols;
const SK = K.Syntax.SyntaxKind;
const kindNames = {};
for (const [name, value] of Object.entries(SK)) {
  if (typeof value === "number") kindNames[value] = name;
}

function globals(schema) {
  const tables = Object.entries(schema.tables).map(([table, columns]) => {
    const cols = Object.entries(columns).map(([c, t]) => `['${c}']:${t}`).join(", ");
    return new S.TableSymbol.$ctor7(table, `(${cols})`, null);
  });
  const db = new S.DatabaseSymbol.$ctor1(schema.database || "workspace", tables, false);
  return K.GlobalState.Default.WithDatabase(db);
}

function list(items) {
  const out = [];
  for (let i = 0; i < items.Count; i++) out.push(items.getItem(i));
  return out;
}

function walk(node, visit) {
  if (!node) return;
  visit(node);
  for (let i = 0; i < node.ChildCount; i++) walk(node.GetChild(i), visit);
}

function analyse(text, state) {
  const code = K.KustoCode.ParseAndAnalyze(text, state);
  const diagnostics = list(code.GetDiagnostics()).map((d) => ({
    severity: d.Severity,
    code: d.Code,
    message: d.Message,
    start: d.Start,
    text: text.substr(d.Start, d.Length),
  }));
  const lets = [];
  const shape = [];
  walk(code.Syntax, (node) => {
    const kind = kindNames[node.Kind] || String(node.Kind);
    if (node.Kind === SK.LetStatement) {
      const expr = node.Expression;
      lets.push({
        name: node.Name.SimpleName,
        kind: kindNames[expr.Kind] || String(expr.Kind),
        value: expr.IsLiteral ? String(expr.LiteralValue) : null,
      });
    }
    if (node.IsToken) {
      shape.push(node.Kind === SK.StringLiteralToken ? `${kind}:<string>` : `${kind}:${node.Text}`);
    } else {
      shape.push(kind);
    }
  });
  return { diagnostics, lets, shape };
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const state = globals(input.schema);
const result = {};
for (const [name, text] of Object.entries(input.queries)) result[name] = analyse(text, state);
process.stdout.write(JSON.stringify(result));
