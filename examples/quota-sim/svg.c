#include "qsim.h"
int qs_svg_write(const char *file, const qs_sim *s, qs_err *err)
{
	(void)file; (void)s;
	qs_errf(err, 0, 0, "not yet");
	return -1;
}
