# C/RTL co-simulation: the synthesised RTL (with hw/rtl's TLMM engine as the blackbox) driven by the
# same testbench as csim.tcl. Slow: use a tiny model's job (a prefill and a few decode steps of
# `tellme make-test-model --preset bitnet-tiny-packed`).
#
#   vitis_hls -f hls/scripts/cosim.tcl -tclargs <board> <job file>
source [file join [file dirname [info script]] project.tcl]
set job [expr {[llength $::argv] > 1 ? [file normalize [lindex $::argv 1]] : ""}]
if {$job eq ""} { error "usage: vitis_hls -f hls/scripts/cosim.tcl -tclargs <board> <job file>" }
add_files -tb $root/hls/csim/accel_tb.cpp -cflags "$cflags -I$root/hls/sim"
add_files -tb $root/hls/sim/tl_hls_accel.cpp -cflags "$cflags -I$root/hls/sim"
csynth_design
cosim_design -argv $job -rtl verilog -trace_level none
exit
