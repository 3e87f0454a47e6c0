// tlmm_core with the parameters of one hardware build (the generated package), for builds whose
// whole engine hw/rtl does not implement (the paper's 768-bit beats) and for measuring the core
// alone: lint and synthesis of `the TLMM engine` of a board (docs/measurements.md).
module tlmm_core_build #(
  localparam int unsigned Q = tellme_hw_pkg::ParallelVectors,
  localparam int unsigned VecBits = tellme_hw_pkg::VectorBits,
  localparam int unsigned Buffers = tellme_hw_pkg::Buffers,
  localparam int unsigned Words = tellme_hw_pkg::WordsPerBankPerBuffer,
  localparam int unsigned ActWidth = tellme_hw_pkg::ChunkElements * tellme_hw_pkg::ActivationBits,
  localparam int unsigned OutWidth = Q * tellme_hw_pkg::AccumulatorBits,
  localparam int unsigned BufBits = (Buffers > 1) ? $clog2(Buffers) : 1,
  localparam int unsigned KBits = $clog2(tellme_hw_pkg::KMaxPadded + 1),
  localparam int unsigned RowBits = $clog2(tellme_hw_pkg::MaxTileRows + 1),
  localparam int unsigned TokBits = $clog2(tellme_hw_pkg::MaxTokens + 1),
  localparam int unsigned WordBits = $clog2(Words)
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 cmd_valid_i,
  output logic                 cmd_ready_o,
  input  logic [BufBits-1:0]   cmd_buf_i,
  input  logic [KBits-1:0]     cmd_k_i,
  input  logic [RowBits-1:0]   cmd_rows_i,
  input  logic [TokBits-1:0]   cmd_tokens_i,
  output logic                 busy_o,
  output logic                 done_o,
  output logic                 error_o,
  output logic [31:0]          cycles_o,
  input  logic                 act_valid_i,
  output logic                 act_ready_o,
  input  logic [ActWidth-1:0]  act_data_i,
  output logic                 wb_en_o,
  output logic [BufBits-1:0]   wb_buf_o,
  output logic [WordBits-1:0]  wb_addr_o,
  input  logic [Q*VecBits-1:0] wb_vec_i,
  output logic                 out_valid_o,
  input  logic                 out_ready_i,
  output logic [OutWidth-1:0]  out_data_o,
  output logic                 out_last_o
);

  tlmm_core #(
    .Tables(tellme_hw_pkg::Tables), .Vectors(Q), .IdxBits(tellme_hw_pkg::IndexBits),
    .ActBits(tellme_hw_pkg::ActivationBits), .EntryBits(tellme_hw_pkg::TableEntryBits),
    .PsumBits(tellme_hw_pkg::PartialSumBits), .AccBits(tellme_hw_pkg::AccumulatorBits),
    .MaxK(tellme_hw_pkg::KMaxPadded), .MaxChunks(tellme_hw_pkg::MaxChunks), .MaxRows(tellme_hw_pkg::MaxTileRows),
    .MaxTokens(tellme_hw_pkg::MaxTokens), .WordsPerBuffer(Words), .Buffers(Buffers),
    .PingPong(tellme_hw_pkg::TablePingpong), .WbLatency(2),
    .ChunkDivMul(tellme_hw_pkg::ChunkDivMul), .ChunkDivShift(tellme_hw_pkg::ChunkDivShift),
    .RowDivMul(tellme_hw_pkg::RowDivMul), .RowDivShift(tellme_hw_pkg::RowDivShift),
    .BankDivMul(tellme_hw_pkg::BankDivMul), .BankDivShift(tellme_hw_pkg::BankDivShift)
  ) u_core (.*);
endmodule
