# Synthesis of the accelerator's top function (tellme_accel, hls/src/accel_top.cpp) for the board's
# part at 250 MHz; the reports land in build/vitis/tellme_accel_<board>/solution_<board>/syn/report.
#
#   vitis_hls -f hls/scripts/csynth.tcl [-tclargs <board>]
source [file join [file dirname [info script]] project.tcl]
csynth_design
exit
