// The TLMM core: table-lookup matrix multiplication of one weight tile by a block of tokens
// (docs/numerics.md §6, paper v2 §3.2-3.4). For every token and every chunk of the reduction
// (T groups of 3 activations), the table builder writes the T 27-entry tables from the chunk's
// 3*T int8 activations; then the core reads Q index vectors per cycle from the weight buffer (Q
// output rows, T table indices each), looks up Q*T table entries from LUTRAM, sums each row's T
// entries in an adder tree and accumulates the partial sums per row in block RAM. After a token's
// last chunk the Q accumulators of each row block leave on the output stream.
//
//   acc[row] = sum over chunks c, tables t of table_{c,t}[ idx(row, c, t) ]      (exact integers)
//
// Loop order: tokens, then chunks, then blocks of Q rows (one block per cycle). With ping-pong
// tables (TableBanks = 2) chunk c+1's tables are built while chunk c is looked up, so a chunk costs
// max(ceil(rows / Q), 28) cycles; single tables cost 28 + ceil(rows / Q) + the read latency.
//
// Run-time shape: K (reduction length, elements), rows, tokens and the weight-buffer half come
// with each command; one core serves every matrix up to the build's maxima. The weight tile must
// be in the buffer half in the layout of docs/layout.md §2 (row z of chunk c at bank z mod Banks,
// word c*ceil(rows/Banks) + z div Banks). Activations arrive one chunk per beat, token-major
// (3*T int8, zero-padded past K; padding groups have index 13, whose entry is 0, so the padded
// activations never change a result). Output: one beat per block of Q rows, lane l = row Q*m + l
// (lanes past `rows` are zero), tlast on the last block of each token.
//
// Flow control: the whole lookup pipeline advances together (adv) whenever the two-entry output
// FIFO has room; the FIFO's ready is registered, so back-pressure never reaches the pipeline
// combinationally.
module tlmm_core #(
  parameter int unsigned Tables = 28,            // T
  parameter int unsigned Vectors = 16,           // Q (even: two reads per dual-port bank)
  parameter int unsigned IdxBits = 5,
  parameter int unsigned ActBits = 8,
  parameter int unsigned EntryBits = 10,
  parameter int unsigned PsumBits = 15,          // sum of the T lookups of one row
  parameter int unsigned AccBits = 22,
  parameter int unsigned MaxK = 8652,
  parameter int unsigned MaxChunks = 103,
  parameter int unsigned MaxRows = 8640,         // a multiple of Q
  parameter int unsigned MaxTokens = 4096,
  parameter int unsigned WordsPerBuffer = 4096,  // per bank, per buffer half
  parameter int unsigned Buffers = 2,
  parameter bit PingPong = 1'b1,
  parameter int unsigned WbLatency = 2,          // weight-buffer read latency (cycles, >= 1)
  // ceil divisions by constants, as floor((x + d - 1) * Mul >> Shift) (see tlmm_div_const)
  parameter int unsigned ChunkDivMul = 1,
  parameter int unsigned ChunkDivShift = 0,
  parameter int unsigned RowDivMul = 1,          // by Q
  parameter int unsigned RowDivShift = 4,
  parameter int unsigned BankDivMul = 1,         // by Q/2
  parameter int unsigned BankDivShift = 3,
  localparam int unsigned Banks = Vectors / 2,
  localparam int unsigned ChunkElems = 3 * Tables,
  localparam int unsigned ActWidth = ChunkElems * ActBits,
  localparam int unsigned VecBits = Tables * IdxBits,
  localparam int unsigned OutWidth = Vectors * AccBits,
  localparam int unsigned KBits = $clog2(MaxK + 1),
  localparam int unsigned RowBits = $clog2(MaxRows + 1),
  localparam int unsigned TokBits = $clog2(MaxTokens + 1),
  localparam int unsigned BufBits = (Buffers > 1) ? $clog2(Buffers) : 1,
  localparam int unsigned WordBits = $clog2(WordsPerBuffer)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  // Command: one call = one weight tile times `tokens` tokens.
  input  logic                      cmd_valid_i,
  output logic                      cmd_ready_o,
  input  logic [BufBits-1:0]        cmd_buf_i,
  input  logic [KBits-1:0]          cmd_k_i,
  input  logic [RowBits-1:0]        cmd_rows_i,
  input  logic [TokBits-1:0]        cmd_tokens_i,
  output logic                      busy_o,
  output logic                      done_o,        // pulse: the call's last beat left (or it was refused)
  output logic                      error_o,       // with done_o: the command was out of range, nothing ran
  output logic [31:0]               cycles_o,      // cycles of the last call, command to last beat
  // Activations: one chunk (3*T int8) per beat.
  input  logic                      act_valid_i,
  output logic                      act_ready_o,
  input  logic [ActWidth-1:0]       act_data_i,
  // Weight-buffer read port: word pair (addr, addr + 1) of every bank of half `buf`.
  output logic                      wb_en_o,
  output logic [BufBits-1:0]        wb_buf_o,
  output logic [WordBits-1:0]       wb_addr_o,
  input  logic [Vectors*VecBits-1:0] wb_vec_i,     // lane l at [VecBits*l +: VecBits]
  // Accumulators: Q per beat.
  output logic                      out_valid_o,
  input  logic                      out_ready_i,
  output logic [OutWidth-1:0]       out_data_o,    // lane l at [AccBits*l +: AccBits]
  output logic                      out_last_o
);
  localparam int unsigned TableBanks = PingPong ? 2 : 1;
  localparam int unsigned TBankBits = 1;
  localparam int unsigned LutAddrBits = PingPong ? 6 : 5;
  localparam int unsigned LutDepth = PingPong ? 64 : 32;
  localparam int unsigned ChunkBits = $clog2(MaxChunks + 1);
  localparam int unsigned AccDepth = MaxRows / Vectors;
  localparam int unsigned BlockBits = $clog2(AccDepth + 1);
  localparam int unsigned AccAddrBits = (AccDepth > 1) ? $clog2(AccDepth) : 1;
  localparam int unsigned LaneBits = $clog2(Vectors + 1);
  localparam int unsigned BuildBits = ChunkBits + TokBits;
  localparam int unsigned TreeLatency = $clog2(Tables);           // tlmm_adder_tree, one level per stage
  // Pipeline stages: 1 = issued (weight address registered); SIdx = index vectors from the weight
  // buffer; SLut = lookups registered; SSum = row sums out of the adder trees (and the block's old
  // accumulators out of the accumulator RAM); SAcc = new accumulators registered (write back, or
  // to the output FIFO after the last chunk).
  localparam int unsigned SIdx = 1 + WbLatency;
  localparam int unsigned SLut = SIdx + 1;
  localparam int unsigned SSum = SLut + TreeLatency;
  localparam int unsigned SAcc = SSum + 1;

  if (Vectors < 2 || Vectors % 2 != 0) begin : g_check_q
    $error("tlmm_core: Vectors (Q) = %0d must be even", Vectors);
  end
  if (MaxRows % Vectors != 0) begin : g_check_rows
    $error("tlmm_core: MaxRows = %0d must be a multiple of Q = %0d", MaxRows, Vectors);
  end
  if (IdxBits != 5 || EntryBits < ActBits + 2) begin : g_check_idx
    $error("tlmm_core: groups of 3 need 5-bit indices and entries of at least ActBits + 2 bits");
  end
  if (PsumBits < EntryBits + TreeLatency || AccBits < PsumBits) begin : g_check_acc
    $error("tlmm_core: PsumBits = %0d / AccBits = %0d too narrow for %0d lookups of %0d bits", PsumBits, AccBits, Tables, EntryBits);
  end
  if (WbLatency < 1) begin : g_check_latency
    $error("tlmm_core: WbLatency must be at least 1");
  end
  if (MaxChunks * ChunkElems < MaxK) begin : g_check_k
    $error("tlmm_core: MaxChunks = %0d chunks of %0d do not cover MaxK = %0d", MaxChunks, ChunkElems, MaxK);
  end

  // ---------------------------------------------------------------------------------------------
  // Command, shape and call state
  // ---------------------------------------------------------------------------------------------
  typedef enum logic [1:0] {IDLE, SETUP, CHECK, RUN} state_e;
  state_e state_q;

  logic [BufBits-1:0]   buf_q;
  logic [KBits-1:0]     k_q;
  logic [RowBits-1:0]   rows_q;
  logic [TokBits-1:0]   tokens_q;
  logic [ChunkBits-1:0] chunks_q;       // ceil(K / 3T)
  logic [BlockBits-1:0] blocks_q;       // ceil(rows / Q)
  logic [WordBits:0]    rpb_q;          // ceil(rows / Banks): words per chunk per bank
  logic [LaneBits-1:0]  tail_lanes_q;   // rows in the last block (1..Q)
  logic [31:0]          cycles_q, cycles_out_q;

  logic [ChunkBits-1:0] chunks_d;
  logic [BlockBits-1:0] blocks_d;
  logic [WordBits:0]    rpb_d;
  tlmm_div_const #(.InBits(KBits + 1), .OutBits(ChunkBits), .Mul(ChunkDivMul), .Shift(ChunkDivShift)) u_div_chunks (
    .x_i((KBits + 1)'(k_q) + (KBits + 1)'(ChunkElems - 1)), .q_o(chunks_d));
  tlmm_div_const #(.InBits(RowBits + 1), .OutBits(BlockBits), .Mul(RowDivMul), .Shift(RowDivShift)) u_div_blocks (
    .x_i((RowBits + 1)'(rows_q) + (RowBits + 1)'(Vectors - 1)), .q_o(blocks_d));
  tlmm_div_const #(.InBits(RowBits + 1), .OutBits(WordBits + 1), .Mul(BankDivMul), .Shift(BankDivShift)) u_div_rpb (
    .x_i((RowBits + 1)'(rows_q) + (RowBits + 1)'(Banks - 1)), .q_o(rpb_d));

  // Words of the tile per bank: chunks * rpb must fit one buffer half.
  logic [ChunkBits+WordBits:0] words_needed;
  assign words_needed = (ChunkBits + WordBits + 1)'(chunks_q) * (ChunkBits + WordBits + 1)'(rpb_q);

  logic shape_ok;
  assign shape_ok = (k_q != '0) && (k_q <= KBits'(MaxK)) && (rows_q != '0) && (rows_q <= RowBits'(MaxRows))
                 && (tokens_q != '0) && (tokens_q <= TokBits'(MaxTokens))
                 && (words_needed <= (ChunkBits + WordBits + 1)'(WordsPerBuffer))
                 && (Buffers > 1 || buf_q == '0) && (32'(buf_q) < Buffers);

  logic last_out;   // the call's final beat leaves the FIFO this cycle
  assign cmd_ready_o = (state_q == IDLE);
  assign busy_o      = (state_q != IDLE);
  assign cycles_o    = cycles_out_q;

  logic start_run;  // CHECK passed: the call starts
  assign start_run = (state_q == CHECK) && shape_ok;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q      <= IDLE;
      done_o       <= 1'b0;
      error_o      <= 1'b0;
      cycles_out_q <= '0;
    end else begin
      done_o  <= 1'b0;
      error_o <= 1'b0;
      unique case (state_q)
        IDLE:  if (cmd_valid_i) state_q <= SETUP;
        SETUP: state_q <= CHECK;
        CHECK: begin
          if (shape_ok) begin
            state_q <= RUN;
          end else begin
            state_q      <= IDLE;
            done_o       <= 1'b1;
            error_o      <= 1'b1;
            cycles_out_q <= cycles_q + 1;
          end
        end
        RUN: begin
          if (last_out) begin
            state_q      <= IDLE;
            done_o       <= 1'b1;
            cycles_out_q <= cycles_q + 1;
          end
        end
        default: state_q <= IDLE;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (state_q == IDLE) begin
      buf_q    <= cmd_buf_i;
      k_q      <= cmd_k_i;
      rows_q   <= cmd_rows_i;
      tokens_q <= cmd_tokens_i;
      cycles_q <= 32'd1;  // the cycle the command is taken counts
    end else begin
      cycles_q <= cycles_q + 1;
    end
    if (state_q == SETUP) begin
      chunks_q     <= chunks_d;
      blocks_q     <= blocks_d;
      rpb_q        <= rpb_d;
      // rows in the last block: rows - Q * (blocks - 1), in 1..Q
      tail_lanes_q <= LaneBits'(rows_q - RowBits'(Vectors) * (RowBits'(blocks_d) - 1'b1));
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Tables: builder, bank state, LUTRAMs
  // ---------------------------------------------------------------------------------------------
  logic [TableBanks-1:0] tbank_busy_q;   // holds a table not yet fully looked up
  logic [TableBanks-1:0] tbank_built_q;  // its table is complete and not yet issued
  logic                  fill, built, t_we;
  logic [TBankBits-1:0]  fill_bank, built_bank;
  logic [LutAddrBits-1:0] t_waddr;
  logic [Tables*EntryBits-1:0] t_wdata;
  logic [BuildBits-1:0]  builds;
  assign builds = BuildBits'(chunks_q) * BuildBits'(tokens_q);

  tlmm_table_builder #(
    .Tables(Tables), .ActBits(ActBits), .EntryBits(EntryBits), .TableBanks(TableBanks), .CountBits(BuildBits)
  ) u_builder (
    .clk_i, .rst_ni,
    .start_i(start_run), .builds_i(builds),
    .act_valid_i, .act_ready_o, .act_data_i,
    .bank_busy_i(tbank_busy_q),
    .fill_o(fill), .fill_bank_o(fill_bank),
    .built_o(built), .built_bank_o(built_bank),
    .we_o(t_we), .waddr_o(t_waddr), .wdata_o(t_wdata)
  );

  // ---------------------------------------------------------------------------------------------
  // Issue: one block of Q rows per cycle, in (token, chunk, block) order
  // ---------------------------------------------------------------------------------------------
  logic adv;                       // the whole pipeline advances (output FIFO has room)
  logic issuing_q;                 // blocks remain to issue in this call
  logic [TokBits-1:0]   tok_q;
  logic [ChunkBits-1:0] chunk_q;
  logic [BlockBits-1:0] block_q;
  logic [WordBits:0]    chunk_word_q;  // chunk * rpb
  logic [TBankBits-1:0] rbank_q;       // table bank of the chunk being issued
  logic issue, end_of_chunk, last_chunk, last_block_of_token, last_token;

  assign end_of_chunk         = (block_q == blocks_q - 1'b1);
  assign last_chunk           = (chunk_q == chunks_q - 1'b1);
  assign last_token           = (tok_q == tokens_q - 1'b1);
  assign last_block_of_token  = end_of_chunk && last_chunk;
  assign issue = adv && (state_q == RUN) && issuing_q && tbank_built_q[rbank_q];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      issuing_q <= 1'b0;
    end else if (start_run) begin
      issuing_q <= 1'b1;
    end else if (issue && last_block_of_token && last_token) begin
      issuing_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_run) begin
      tok_q        <= '0;
      chunk_q      <= '0;
      block_q      <= '0;
      chunk_word_q <= '0;
      rbank_q      <= '0;
    end else if (issue) begin
      if (!end_of_chunk) begin
        block_q <= block_q + 1'b1;
      end else begin
        block_q <= '0;
        rbank_q <= (TableBanks > 1) ? rbank_q + 1'b1 : '0;
        if (!last_chunk) begin
          chunk_q      <= chunk_q + 1'b1;
          chunk_word_q <= chunk_word_q + rpb_q;
        end else begin
          chunk_q      <= '0;
          chunk_word_q <= '0;
          tok_q        <= tok_q + 1'b1;
        end
      end
    end
  end

  // Table bank bookkeeping: built by the builder; no longer "built" once its last block issued;
  // free again once that block's lookups are registered (stage SLut).
  logic free_bank;
  logic [TBankBits-1:0] free_bank_idx;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      tbank_busy_q  <= '0;
      tbank_built_q <= '0;
    end else begin
      for (int b = 0; b < TableBanks; b++) begin
        if (fill && fill_bank == TBankBits'(b)) tbank_busy_q[b] <= 1'b1;
        else if (free_bank && free_bank_idx == TBankBits'(b)) tbank_busy_q[b] <= 1'b0;
        if (built && built_bank == TBankBits'(b)) tbank_built_q[b] <= 1'b1;
        else if (issue && end_of_chunk && rbank_q == TBankBits'(b)) tbank_built_q[b] <= 1'b0;
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Pipeline control: stage s of every field at index s (1..SAcc)
  // ---------------------------------------------------------------------------------------------
  // Each field is carried as far as its last use; multi-bit fields are flat, stage s of a W-bit
  // field at [W*(s-1) +: W].
  logic [SAcc:1]                 p_valid_q, p_last_q, p_tlast_q, p_final_q;
  logic [SSum:1]                 p_first_q;
  logic [SIdx:1]                 p_eoc_q;
  logic [SIdx*TBankBits-1:0]     p_bank_q;
  logic [SAcc*AccAddrBits-1:0]   p_block_q;
  logic [SSum*LaneBits-1:0]      p_lanes_q;
  logic [WordBits-1:0]           word_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      p_valid_q <= '0;
    end else if (adv) begin
      p_valid_q <= {p_valid_q[SAcc-1:1], issue};
    end
  end

  always_ff @(posedge clk_i) begin
    if (adv) begin
      p_first_q <= {p_first_q[SSum-1:1], chunk_q == '0};
      p_last_q  <= {p_last_q[SAcc-1:1], last_chunk};
      p_eoc_q   <= {p_eoc_q[SIdx-1:1], end_of_chunk};
      p_tlast_q <= {p_tlast_q[SAcc-1:1], last_block_of_token};
      p_final_q <= {p_final_q[SAcc-1:1], last_block_of_token && last_token};
      p_bank_q  <= {p_bank_q[TBankBits*(SIdx-1)-1:0], rbank_q};
      p_block_q <= {p_block_q[AccAddrBits*(SAcc-1)-1:0], AccAddrBits'(block_q)};
      p_lanes_q <= {p_lanes_q[LaneBits*(SSum-1)-1:0], end_of_chunk ? tail_lanes_q : LaneBits'(Vectors)};
      // Word pair of block m of this chunk: rows Q*m .. Q*m + Q - 1 sit at word (Q*m) / Banks = 2m
      // (and 2m + 1) of every bank.
      word_q    <= WordBits'(chunk_word_q) + WordBits'({block_q, 1'b0});
    end
  end

  assign wb_en_o   = adv && (state_q == RUN);
  assign wb_buf_o  = buf_q;
  assign wb_addr_o = word_q;

  // The table bank becomes free when the last lookup of its chunk is registered.
  assign free_bank     = adv && p_valid_q[SIdx] && p_eoc_q[SIdx];
  assign free_bank_idx = p_bank_q[TBankBits*(SIdx-1) +: TBankBits];

  // ---------------------------------------------------------------------------------------------
  // Lookups: T tables, each with Q read ports; registered at stage SLut
  // ---------------------------------------------------------------------------------------------
  logic [Vectors*Tables*EntryBits-1:0] lookup_q;   // row l, table t at [EntryBits*(Tables*l + t) +: EntryBits]

  for (genvar t = 0; t < Tables; t++) begin : g_table
    logic [Vectors*LutAddrBits-1:0] raddr;
    logic [Vectors*EntryBits-1:0]   rdata;
    for (genvar l = 0; l < Vectors; l++) begin : g_port
      logic [IdxBits-1:0] idx;
      assign idx = wb_vec_i[VecBits*l + IdxBits*t +: IdxBits];
      if (PingPong) begin : g_pp
        assign raddr[LutAddrBits*l +: LutAddrBits] = {p_bank_q[TBankBits*(SIdx-1) +: TBankBits], idx};
      end else begin : g_single
        assign raddr[LutAddrBits*l +: LutAddrBits] = idx;
      end
    end
    tlmm_table_ram #(.Depth(LutDepth), .Width(EntryBits), .Reads(Vectors)) u_table (
      .clk_i, .we_i(t_we), .waddr_i(t_waddr), .wdata_i(t_wdata[EntryBits*t +: EntryBits]),
      .raddr_i(raddr), .rdata_o(rdata)
    );
    for (genvar l = 0; l < Vectors; l++) begin : g_reg
      always_ff @(posedge clk_i) begin
        if (adv) lookup_q[EntryBits*(Tables*l + t) +: EntryBits] <= rdata[EntryBits*l +: EntryBits];
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Row sums and accumulation
  // ---------------------------------------------------------------------------------------------
  logic [Vectors*PsumBits-1:0] psum;      // stage SSum
  logic [OutWidth-1:0]         acc_old;   // stage SSum: the block's accumulators so far
  logic [OutWidth-1:0]         acc_q;     // stage SAcc

  for (genvar l = 0; l < Vectors; l++) begin : g_row
    tlmm_adder_tree #(.N(Tables), .InBits(EntryBits), .OutBits(PsumBits), .LevelsPerStage(1)) u_tree (
      .clk_i, .en_i(adv),
      .in_i(lookup_q[EntryBits*Tables*l +: EntryBits*Tables]),
      .sum_o(psum[PsumBits*l +: PsumBits])
    );
  end

  // Read the block's old sums one stage before the tree output; write them back from stage SAcc.
  // A block is read again only in the next chunk, at least one table build (28 cycles) later.
  logic acc_we;
  assign acc_we = adv && p_valid_q[SAcc] && !p_last_q[SAcc];
  tlmm_acc_ram #(.Depth(AccDepth), .Width(OutWidth)) u_acc (
    .clk_i,
    .re_i(adv), .raddr_i(p_block_q[AccAddrBits*(SSum-2) +: AccAddrBits]), .rdata_o(acc_old),
    .we_i(acc_we), .waddr_i(p_block_q[AccAddrBits*(SAcc-1) +: AccAddrBits]), .wdata_i(acc_q)
  );

  for (genvar l = 0; l < Vectors; l++) begin : g_acc
    logic [AccBits-1:0] sum_ext, base;
    assign sum_ext = AccBits'($signed(psum[PsumBits*l +: PsumBits]));
    assign base    = p_first_q[SSum] ? '0 : acc_old[AccBits*l +: AccBits];
    always_ff @(posedge clk_i) begin
      if (adv) begin
        // Lanes past the tile's rows (last block) are zeroed: their weights are whatever the buffer
        // holds beyond the tile.
        acc_q[AccBits*l +: AccBits] <= (LaneBits'(l) < p_lanes_q[LaneBits*(SSum-1) +: LaneBits]) ? base + sum_ext : '0;
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Output FIFO
  // ---------------------------------------------------------------------------------------------
  logic fifo_in_ready, fifo_out_final;
  tlmm_out_fifo #(.Width(OutWidth + 2)) u_out (
    .clk_i, .rst_ni,
    .in_valid_i(adv && p_valid_q[SAcc] && p_last_q[SAcc]),
    .in_ready_o(fifo_in_ready),
    .in_data_i({p_final_q[SAcc], p_tlast_q[SAcc], acc_q}),
    .out_valid_o, .out_ready_i,
    .out_data_o({fifo_out_final, out_last_o, out_data_o})
  );
  assign adv      = fifo_in_ready;
  assign last_out = out_valid_o && out_ready_i && fifo_out_final;

`ifndef SYNTHESIS
  // The accumulator RAM never reads a block whose update is still in the pipeline.
  always_ff @(posedge clk_i) begin
    if (rst_ni && adv && p_valid_q[SSum-1] && !p_first_q[SSum-1]) begin
      for (int s = SSum; s <= SAcc; s++) begin
        assert (!(p_valid_q[s] && p_block_q[AccAddrBits*(s-1) +: AccAddrBits] == p_block_q[AccAddrBits*(SSum-2) +: AccAddrBits]))
          else $error("tlmm_core: accumulator block %0d read while in flight", p_block_q[AccAddrBits*(SSum-2) +: AccAddrBits]);
      end
    end
    // Lookups only read a complete table.
    if (rst_ni && p_valid_q[SIdx]) begin
      assert (tbank_busy_q[p_bank_q[TBankBits*(SIdx-1) +: TBankBits]]) else $error("tlmm_core: lookup from a free table bank");
    end
  end
`endif
endmodule
