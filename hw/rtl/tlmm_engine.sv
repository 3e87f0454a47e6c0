// The TLMM engine of one hardware build: the URAM weight buffer with its beat loader and the TLMM
// core, sized by the generated package hw/gen/<board>/tellme_hw_pkg.sv. This is the IP boundary
// (ap_clk / ap_rst_n, AXI-Stream buses); tlmm_engine_hls wraps it for Vitis HLS as an RTL blackbox.
//
// Two independent command interfaces:
//   load:    write one weight tile (rows x chunks index vectors, dense beats on s_axis_w) into
//            buffer half load_buf;
//   compute: multiply the tile in half cmd_buf by cmd_tokens tokens of K activations
//            (s_axis_act: one chunk of 3*T int8 per beat) into m_axis_acc (Q int accumulators per
//            beat, tlast at each token's last beat).
// With two halves a load runs while the core computes from the other half (docs/layout.md §2.3).
// A command on a half the other side is using waits until that side is done; when both offer
// commands for the same idle half in one cycle, the compute goes first (it computes what was
// loaded before). done pulses report completion, error the refusal of an out-of-range command.
module tlmm_engine #(
  parameter int unsigned WbLatency = 2,
  localparam int unsigned T = tellme_hw_pkg::Tables,
  localparam int unsigned Q = tellme_hw_pkg::ParallelVectors,
  localparam int unsigned Banks = tellme_hw_pkg::Banks,
  localparam int unsigned Buffers = tellme_hw_pkg::Buffers,
  localparam int unsigned Words = tellme_hw_pkg::WordsPerBankPerBuffer,
  localparam int unsigned VecBits = tellme_hw_pkg::VectorBits,
  // (1 where the package says 0 = no loader, only so elaboration reaches the check below)
  localparam int unsigned WrVecs = (tellme_hw_pkg::LoaderVectorsPerCycle > 0) ? tellme_hw_pkg::LoaderVectorsPerCycle : 1,
  localparam int unsigned MaxRows = tellme_hw_pkg::MaxTileRows,
  localparam int unsigned MaxChunks = tellme_hw_pkg::MaxChunks,
  localparam int unsigned MaxK = tellme_hw_pkg::KMaxPadded,
  localparam int unsigned MaxTokens = tellme_hw_pkg::MaxTokens,
  localparam int unsigned AccBits = tellme_hw_pkg::AccumulatorBits,
  localparam int unsigned ActWidth = tellme_hw_pkg::ChunkElements * tellme_hw_pkg::ActivationBits,
  localparam int unsigned OutWidth = Q * AccBits,
  localparam int unsigned LoadBufBits = (Buffers > 1) ? $clog2(Buffers) : 1,
  localparam int unsigned RowBits = $clog2(MaxRows + 1),
  localparam int unsigned ChunkBits = $clog2(MaxChunks + 1),
  localparam int unsigned KBits = $clog2(MaxK + 1),
  localparam int unsigned TokBits = $clog2(MaxTokens + 1),
  localparam int unsigned WordBits = $clog2(Words),
  localparam int unsigned Groups = Banks / WrVecs,
  localparam int unsigned GroupBits = (Groups > 1) ? $clog2(Groups) : 1
) (
  input  logic ap_clk,
  input  logic ap_rst_n,
  // Load command.
  input  logic load_valid_i,
  output logic load_ready_o,
  input  logic [LoadBufBits-1:0]   load_buf_i,
  input  logic [RowBits-1:0]       load_rows_i,
  input  logic [ChunkBits-1:0]     load_chunks_i,
  output logic load_done_o,
  output logic load_error_o,
  // Weight beats.
  input  logic [tellme_hw_pkg::BeatBits-1:0] s_axis_w_tdata,
  input  logic                               s_axis_w_tvalid,
  output logic                               s_axis_w_tready,
  // Compute command.
  input  logic cmd_valid_i,
  output logic cmd_ready_o,
  input  logic [LoadBufBits-1:0]   cmd_buf_i,
  input  logic [KBits-1:0]         cmd_k_i,
  input  logic [RowBits-1:0]       cmd_rows_i,
  input  logic [TokBits-1:0]       cmd_tokens_i,
  output logic cmd_done_o,
  output logic cmd_error_o,
  output logic [31:0]              cmd_cycles_o,
  // Activations: one chunk per beat.
  input  logic [ActWidth-1:0]      s_axis_act_tdata,
  input  logic                     s_axis_act_tvalid,
  output logic                     s_axis_act_tready,
  // Accumulators: Q per beat.
  output logic [OutWidth-1:0]      m_axis_acc_tdata,
  output logic                     m_axis_acc_tvalid,
  input  logic                     m_axis_acc_tready,
  output logic                     m_axis_acc_tlast
);

  if (tellme_hw_pkg::BeatPackingPaper || tellme_hw_pkg::LoaderVectorsPerCycle == 0) begin : g_check_loader
    $error("tlmm_engine: build %s has no RTL weight loader (paper beats or beats too wide for the dense loader); only its tlmm_core can be built", tellme_hw_pkg::BoardName);
  end
  if (tellme_hw_pkg::TokenBlock != 1) begin : g_check_token_block
    $error("tlmm_engine: prefill_token_block = %0d is not implemented (one token per lookup)", tellme_hw_pkg::TokenBlock);
  end
  if (!tellme_hw_pkg::ActivationReadParallel) begin : g_check_act_read
    $error("tlmm_engine: activation_read serial is not implemented (one chunk per beat)");
  end
  if (tellme_hw_pkg::GroupSize != 3 || tellme_hw_pkg::IndexBits != 5 || tellme_hw_pkg::ActivationBits != 8) begin : g_check_encoding
    $error("tlmm_engine: the RTL implements G = 3, 5-bit indices and int8 activations");
  end

  logic                  wr_busy, core_busy;
  logic [LoadBufBits-1:0] wr_busy_buf;
  logic                  wr_en;
  logic [LoadBufBits-1:0] wr_buf;
  logic [WordBits-1:0]   wr_addr;
  logic [GroupBits-1:0]  wr_group;
  logic [WrVecs-1:0]     wr_mask;
  logic [WrVecs*VecBits-1:0] wr_vec;
  logic                  rd_en;
  logic [LoadBufBits-1:0] rd_buf;
  logic [WordBits-1:0]   rd_addr;
  logic [Q*VecBits-1:0]  rd_vec;
  logic                  core_cmd_ready, wr_cmd_ready;
  logic [LoadBufBits-1:0] core_buf_q;   // half the running compute reads

  // A side may start only on a half the other side is not using (see the header).
  logic load_conflict, cmd_conflict;
  assign cmd_conflict  = wr_busy && (wr_busy_buf == cmd_buf_i);
  assign load_conflict = (core_busy && (core_buf_q == load_buf_i)) || (cmd_valid_i && cmd_ready_o && (cmd_buf_i == load_buf_i));
  assign cmd_ready_o   = core_cmd_ready && !cmd_conflict;
  assign load_ready_o  = wr_cmd_ready && !load_conflict;

  always_ff @(posedge ap_clk) begin
    if (cmd_valid_i && cmd_ready_o) core_buf_q <= cmd_buf_i;
  end

  tlmm_weight_writer #(
    .BeatBits(tellme_hw_pkg::BeatBits), .VecBits(VecBits), .Banks(Banks), .WrVecs(WrVecs),
    .WordsPerBuffer(Words), .Buffers(Buffers), .MaxRows(MaxRows), .MaxChunks(MaxChunks),
    .BankDivMul(tellme_hw_pkg::BankDivMul), .BankDivShift(tellme_hw_pkg::BankDivShift)
  ) u_loader (
    .clk_i(ap_clk), .rst_ni(ap_rst_n),
    .cmd_valid_i(load_valid_i && !load_conflict), .cmd_ready_o(wr_cmd_ready),
    .cmd_buf_i(load_buf_i), .cmd_rows_i(load_rows_i), .cmd_chunks_i(load_chunks_i),
    .busy_o(wr_busy), .busy_buf_o(wr_busy_buf), .done_o(load_done_o), .error_o(load_error_o),
    .beat_valid_i(s_axis_w_tvalid), .beat_ready_o(s_axis_w_tready), .beat_data_i(s_axis_w_tdata),
    .wr_en_o(wr_en), .wr_buf_o(wr_buf), .wr_addr_o(wr_addr), .wr_group_o(wr_group),
    .wr_mask_o(wr_mask), .wr_vec_o(wr_vec)
  );

  tlmm_weight_buffer #(
    .Banks(Banks), .Buffers(Buffers), .WordsPerBuffer(Words), .VecBits(VecBits), .WrVecs(WrVecs),
    .ReadLatency(WbLatency)
  ) u_buffer (
    .clk_i(ap_clk),
    .rd_en_i(rd_en), .rd_buf_i(rd_buf), .rd_addr_i(rd_addr), .rd_vec_o(rd_vec),
    .wr_en_i(wr_en), .wr_buf_i(wr_buf), .wr_addr_i(wr_addr), .wr_group_i(wr_group),
    .wr_mask_i(wr_mask), .wr_vec_i(wr_vec)
  );

  tlmm_core #(
    .Tables(T), .Vectors(Q), .IdxBits(tellme_hw_pkg::IndexBits), .ActBits(tellme_hw_pkg::ActivationBits),
    .EntryBits(tellme_hw_pkg::TableEntryBits), .PsumBits(tellme_hw_pkg::PartialSumBits), .AccBits(AccBits),
    .MaxK(MaxK), .MaxChunks(MaxChunks), .MaxRows(MaxRows), .MaxTokens(MaxTokens),
    .WordsPerBuffer(Words), .Buffers(Buffers), .PingPong(tellme_hw_pkg::TablePingpong), .WbLatency(WbLatency),
    .ChunkDivMul(tellme_hw_pkg::ChunkDivMul), .ChunkDivShift(tellme_hw_pkg::ChunkDivShift),
    .RowDivMul(tellme_hw_pkg::RowDivMul), .RowDivShift(tellme_hw_pkg::RowDivShift),
    .BankDivMul(tellme_hw_pkg::BankDivMul), .BankDivShift(tellme_hw_pkg::BankDivShift)
  ) u_core (
    .clk_i(ap_clk), .rst_ni(ap_rst_n),
    .cmd_valid_i(cmd_valid_i && !cmd_conflict), .cmd_ready_o(core_cmd_ready),
    .cmd_buf_i, .cmd_k_i, .cmd_rows_i, .cmd_tokens_i,
    .busy_o(core_busy), .done_o(cmd_done_o), .error_o(cmd_error_o), .cycles_o(cmd_cycles_o),
    .act_valid_i(s_axis_act_tvalid), .act_ready_o(s_axis_act_tready), .act_data_i(s_axis_act_tdata),
    .wb_en_o(rd_en), .wb_buf_o(rd_buf), .wb_addr_o(rd_addr), .wb_vec_i(rd_vec),
    .out_valid_o(m_axis_acc_tvalid), .out_ready_i(m_axis_acc_tready), .out_data_o(m_axis_acc_tdata),
    .out_last_o(m_axis_acc_tlast)
  );

`ifndef SYNTHESIS
  // The arbitration above keeps the loader and the core on different halves.
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && rd_en && wr_en) begin
      assert (rd_buf != wr_buf) else $error("tlmm_engine: the loader writes the half the core reads");
    end
  end
`endif
endmodule
