// The solc npm package ships no types; this is the part of its API the project uses.
declare module 'solc' {
  type ImportResult = { contents: string } | { error: string };
  const solc: {
    compile(input: string, callbacks?: { import?: (path: string) => ImportResult }): string;
    version(): string;
  };
  export default solc;
}
