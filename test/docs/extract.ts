// The shell commands a document shows: the lines of its ```sh, ```bash, ```shell and ```console
// blocks (in console blocks only the `$ ` lines), with `\` continuations joined and trailing
// `# comments` and blank or comment-only lines dropped.
export type DocCommand = { readonly file: string; readonly line: number; readonly block: number; readonly command: string };

const SHELL_FENCE = /^```(sh|bash|shell|console)\s*$/;

export function documentedCommands(file: string, markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = markdown.split('\n');
  let lang: string | undefined;
  let block = 0;
  let pending: { line: number; text: string } | undefined;
  lines.forEach((raw, i) => {
    if (lang === undefined) {
      const m = SHELL_FENCE.exec(raw.trim());
      if (m) {
        lang = m[1];
        block++;
      } else if (raw.trim().startsWith('```')) {
        lang = '';
      }
      return;
    }
    if (raw.trim().startsWith('```')) {
      lang = undefined;
      return;
    }
    if (lang === '') return; // another language's block
    let text = raw;
    if (pending === undefined) {
      if (lang === 'console') {
        if (!text.startsWith('$ ')) return;
        text = text.slice(2);
      }
      text = stripComment(text).trim();
      if (text === '') return;
    } else {
      text = stripComment(text).trim();
    }
    const cont = text.endsWith('\\');
    const piece = cont ? text.slice(0, -1).trim() : text;
    pending = pending ? { line: pending.line, text: `${pending.text} ${piece}` } : { line: i + 1, text: piece };
    if (!cont) {
      out.push({ file, line: pending.line, block, command: pending.text });
      pending = undefined;
    }
  });
  return out;
}

/** Drops a `# comment` that starts a line or follows whitespace outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return line.slice(0, i);
    }
  }
  return line;
}
