/** The demo snapshot: one kubectl `List` JSON file. */
export declare function demoSnapshotPath(): string;
/** The demo's node dumps: one folder per node, named by its address (`--node-dumps`). */
export declare function demoNodeDumpsPath(): string;
