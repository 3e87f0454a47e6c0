# C simulation of the whole accelerator inside Vitis HLS: the driver hls/csim/accel_tb.cpp through
# the register file of hls/sim/tl_hls_accel.cpp (the same code `tellme verify --target csim` builds
# with g++). The job file names the model image, its DDR sections and the registers; write one with
#   npx tsx -e "..."  (host/src/verify/csim-job.ts writeCsimJob), or take the one
#   `tellme verify --target csim` leaves with its working directory.
#
#   vitis_hls -f hls/scripts/csim.tcl -tclargs <board> <job file>
source [file join [file dirname [info script]] project.tcl]
set job [expr {[llength $::argv] > 1 ? [file normalize [lindex $::argv 1]] : ""}]
if {$job eq ""} { error "usage: vitis_hls -f hls/scripts/csim.tcl -tclargs <board> <job file>" }
add_files -tb $root/hls/csim/accel_tb.cpp -cflags "$cflags -I$root/hls/sim"
add_files -tb $root/hls/sim/tl_hls_accel.cpp -cflags "$cflags -I$root/hls/sim"
csim_design -argv $job
exit
