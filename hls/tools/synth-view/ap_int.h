// Stand-in for Vitis's <ap_int.h> in the synthesis view of the subset check (hls/tools/subset-check.sh):
// the check parses hls/src with __SYNTHESIS__ defined, as Vitis does, and needs only declarations
// of the types; the project's own model provides them. Never used to build anything.
#ifndef TL_SYNTH_VIEW_AP_INT_H
#define TL_SYNTH_VIEW_AP_INT_H
#include "tl_ap_int_model.hpp"
#endif
