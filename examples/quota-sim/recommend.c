#include "qsim.h"
int qs_recommend(FILE *out, const qs_plan *plan, const char *trace,
		 const qs_rec_opts *o, qs_err *err)
{
	(void)out; (void)plan; (void)trace; (void)o;
	qs_errf(err, 0, 0, "not yet");
	return -1;
}
