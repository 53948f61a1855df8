/*
 * Run-time options shared by the harnesses that link this file (their .mk
 * lists it): a smaller ASan quarantine and shorter allocation stacks (each run
 * stays cheap; use-after-free is still caught), entropic scheduling off (it
 * cost over half of each small run, measured with perf), and UBSan reports
 * that stop the run instead of scrolling by in the log. ASAN_OPTIONS,
 * UBSAN_OPTIONS and an explicit -entropic= on the command line still win.
 */
#include <string.h>

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=32:malloc_context_size=4";
}

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* Entropic scheduling costs more than these small harnesses spend running (perf). */
#define MAX_ARGS 64
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *args[MAX_ARGS + 2];
	static char entropic_off[] = "-entropic=0";
	int n = *argc;

	if (n > MAX_ARGS)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!strncmp((*argv)[i], "-entropic=", strlen("-entropic=")))
			return 0;
		args[i] = (*argv)[i];
	}
	args[n] = entropic_off;
	args[n + 1] = NULL;
	*argc = n + 1;
	*argv = args;
	return 0;
}
