// Lists promises nobody waits for: a call whose value is a Promise, used as a statement without
// `await`, `void`, `.then/.catch` or `return`. The store is async (one contract for SQLite and
// PostgreSQL): a forgotten `await` there is a write that may land after the caller moved on, or an
// error nobody sees. TypeScript does not flag these; eslint's no-floating-promises would, but one
// rule does not justify a linter and its plugins. `void promise` marks a deliberate fire-and-forget.
// usage: node scripts/check-floating.cjs   (exit 1 when any is found)
const ts = require('typescript');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cfg = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
const program = ts.createProgram(cfg.fileNames, { ...cfg.options, noEmit: true });
const checker = program.getTypeChecker();

function isPromise(t) {
  if (t.isUnion()) return t.types.some(isPromise);
  const then = t.getProperty('then');
  return !!then && !!t.getProperty('catch');
}
const found = [];
for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile || !sf.fileName.startsWith(root) || sf.fileName.includes('node_modules')) continue;
  const visit = (n) => {
    if (ts.isExpressionStatement(n)) {
      let e = n.expression;
      while (ts.isParenthesizedExpression(e)) e = e.expression;
      const skip = ts.isAwaitExpression(e) || ts.isVoidExpression(e) || ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken
        || ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && ['then', 'catch', 'finally'].includes(e.expression.name.text);
      if (!skip && (ts.isCallExpression(e) || ts.isNewExpression(e)) && isPromise(checker.getTypeAtLocation(e))) {
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
        found.push(`${path.relative(root, sf.fileName)}:${line + 1}: ${n.getText().slice(0, 90).replace(/\s+/g, ' ')}`);
      }
    }
    // an arrow whose body is a promise, handed where nothing awaits it (forEach, event listeners)
    if (ts.isArrowFunction(n) && !ts.isBlock(n.body) && ts.isCallExpression(n.parent)) {
      const callee = n.parent.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
      if (['forEach', 'on', 'once', 'setTimeout', 'setInterval', 'setImmediate'].includes(name) && isPromise(checker.getTypeAtLocation(n.body))) {
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
        found.push(`${path.relative(root, sf.fileName)}:${line + 1}: promise returned to ${name}(): ${n.getText().slice(0, 70).replace(/\s+/g, ' ')}`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
for (const f of found) console.log(f);
if (found.length) {
  console.error(`check-floating: ${found.length} promise(s) nobody awaits (await them, or write \`void\` where fire-and-forget is meant)`);
  process.exit(1);
}
