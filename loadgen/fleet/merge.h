/* merge.h -- 'loadgen merge': adds histograms saved by --hgrm, exactly. */
#ifndef LOADGEN_MERGE_H
#define LOADGEN_MERGE_H

/* argv[0] is "merge". Returns the exit status: 0 merged, 1 a file unreadable or malformed,
 * 2 bad usage. */
int merge_main(int argc, char **argv);

#endif
