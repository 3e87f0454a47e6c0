# Synthesis and export as a Vivado IP (ip_catalog zip) for the block design of the board.
#
#   vitis_hls -f hls/scripts/export.tcl [-tclargs <board>]
source [file join [file dirname [info script]] project.tcl]
csynth_design
export_design -format ip_catalog -vendor tellme.dev -library tellme -version 1.0 -display_name "TeLLMe accelerator ($board)"
exit
