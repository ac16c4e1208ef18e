"""The parts of a Chorus model as torch.nn.Modules: features -> recurrence -> head, each with the
module and parameter names chorus writes at the top level of model.pt (trainer/models/). A new
recurrence or head is one class here and one line in RECURRENCES or HEADS. Invariant: for the
same parameters each part computes what its C++ twin computes (tests/python/ checks 1e-5)."""

import math

import torch
from torch import nn
from torch.nn import functional as F

# ---- features: what the recurrence reads at each position -------------------------------------


class SymbolFeatures(nn.Module):
    """Symbols embedded (`embed`); with artists, an artist vector (`artist_embed`) joined to every
    position (trainer/models/features.cpp)."""

    def __init__(self, symbols, embedding_size, artists=0, artist_embedding_size=0):
        super().__init__()
        self.embed = nn.Embedding(symbols, embedding_size)
        self.artist_embed = nn.Embedding(artists, artist_embedding_size) if artists > 0 else None
        self.size = embedding_size + (artist_embedding_size if artists > 0 else 0)

    def forward(self, inputs, artist=None):
        """inputs [T, B] symbol ids; artist [B] ids (conditioned models) -> [T, B, size]."""
        x = self.embed(inputs)
        if self.artist_embed is None:
            return x
        if artist is None:
            artist = torch.zeros(inputs.shape[1], dtype=torch.long, device=inputs.device)
        a = self.artist_embed(artist).unsqueeze(0).expand(x.shape[0], -1, -1)
        return torch.cat([x, a], dim=2)


class FrameFeatures(nn.Module):
    """88-key 0/1 frames through one linear projection (`input`)."""

    def __init__(self, keys, embedding_size):
        super().__init__()
        self.input = nn.Linear(keys, embedding_size)
        self.size = embedding_size

    def forward(self, inputs, artist=None):
        """inputs [T, B, K] 0/1 -> [T, B, size]."""
        return self.input(inputs.to(torch.float32))


class NoteFeatures(nn.Module):
    """Note sequences (model.kind notes, trainer/tasks/notes_task.cpp): an input row is the symbol
    before (0 = end of frame, k + 1 = key k), the previous frame's K keys and the current frame's
    K keys so far; the symbol is embedded (`embed`), the 2K key bits projected (`context`), and the
    two joined."""

    def __init__(self, keys, embedding_size):
        super().__init__()
        self.keys = keys
        self.embed = nn.Embedding(keys + 1, embedding_size)
        self.context = nn.Linear(2 * keys, embedding_size)
        self.size = 2 * embedding_size

    def forward(self, inputs, artist=None):
        """inputs [T, B, 1 + 2K] -> [T, B, size]."""
        bits = inputs[..., 1:1 + 2 * self.keys].to(self.context.weight.dtype)
        return torch.cat([self.embed(inputs[..., 0]), self.context(bits)], dim=-1)


# ---- recurrences: a stack of single-layer modules with a list of [B, H] state tensors ---------


class LstmStack(nn.Module):
    """Single-layer nn.LSTMs `lstm0`, `lstm1`, ... (the parameters of torch::nn::LSTM, which
    chorus's fused CPU layer also uses). State: [h0, c0, h1, c1, ...], each [B, H]."""

    def __init__(self, input_size, hidden_size, layers):
        super().__init__()
        self.hidden_size, self.layers = hidden_size, layers
        for l in range(layers):
            self.add_module("lstm%d" % l, nn.LSTM(input_size if l == 0 else hidden_size, hidden_size))

    def state_names(self):
        return [n for l in range(self.layers) for n in ("h%d" % l, "c%d" % l)]

    def zeros(self, batch, device="cpu"):
        return [torch.zeros(batch, self.hidden_size, device=device) for _ in range(2 * self.layers)]

    def forward(self, x, state):
        """x [T, B, in], state as zeros() -> (top layer's output [T, B, H], next state)."""
        nxt = []
        for l in range(self.layers):
            h, c = state[2 * l], state[2 * l + 1]
            x, (h, c) = getattr(self, "lstm%d" % l)(x, (h.unsqueeze(0), c.unsqueeze(0)))
            nxt += [h.squeeze(0), c.squeeze(0)]
        return x, nxt


class GruStack(nn.Module):
    """Single-layer nn.GRUs `gru0`, `gru1`, ... State: [h0, h1, ...], each [B, H]."""

    def __init__(self, input_size, hidden_size, layers):
        super().__init__()
        self.hidden_size, self.layers = hidden_size, layers
        for l in range(layers):
            self.add_module("gru%d" % l, nn.GRU(input_size if l == 0 else hidden_size, hidden_size))

    def state_names(self):
        return ["h%d" % l for l in range(self.layers)]

    def zeros(self, batch, device="cpu"):
        return [torch.zeros(batch, self.hidden_size, device=device) for _ in range(self.layers)]

    def forward(self, x, state):
        nxt = []
        for l in range(self.layers):
            x, h = getattr(self, "gru%d" % l)(x, state[l].unsqueeze(0))
            nxt.append(h.squeeze(0))
        return x, nxt


# ---- heads: the output, owning its loss (nats per position) and its sampling ------------------


class SoftmaxHead(nn.Module):
    """A linear layer over the vocabulary (`out`); the loss is the next symbol's cross-entropy."""

    def __init__(self, hidden, outputs, config):
        super().__init__()
        self.out = nn.Linear(hidden, outputs)

    def nll(self, top, targets):
        """top [T, B, H], targets [T, B] ids, or [T, B, 2] (id, lowest allowed id among ids >= 1:
        an ordered vocabulary such as a frame's keys, whose ids 1 .. floor - 1 get no probability)
        -> [T, B] nats."""
        logits = self.out(top)
        ids = targets
        if targets.dim() == top.dim():
            ids = targets[..., 0]
            floor = targets[..., 1:2]
            symbol = torch.arange(logits.shape[-1], device=targets.device)
            logits = logits.masked_fill((symbol >= 1) & (symbol < floor), -math.inf)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1),
                               reduction="none").view(ids.shape)

    def sample(self, top, sampling, engine):
        """top [B, H] -> [B] ids, each picked like chorus's pick_symbol."""
        from .draw import pick_symbol
        rows = self.out(top).tolist()
        ids = []
        for row in rows:
            for excluded in sampling.excluded:
                row[excluded] = -math.inf
            ids.append(pick_symbol(row, sampling.temperature, sampling.method, engine))
        return torch.tensor(ids, dtype=torch.long)


class IndependentHead(nn.Module):
    """A sigmoid per key (`out`); the loss of a frame is the binary cross-entropy summed over the
    keys. Sampling: every key of every stream, in order, is uniform < sigmoid(logit / T)."""

    def __init__(self, hidden, outputs, config):
        super().__init__()
        self.out = nn.Linear(hidden, outputs)

    def nll(self, top, targets):
        return F.binary_cross_entropy_with_logits(self.out(top), targets.to(torch.float32),
                                                  reduction="none").sum(-1)

    def sample(self, top, sampling, engine):
        from .draw import uniform_01
        p = torch.sigmoid(self.out(top) / sampling.temperature).tolist()
        return torch.tensor([[1 if uniform_01(engine) < q else 0 for q in row] for row in p],
                            dtype=torch.long)


class NadeHead(nn.Module):
    """The RNN-NADE output (trainer/models/nade_head.cpp): keys low to high, each conditioned on
    the state and the keys below it. p(v_i = 1 | v_<i, h) = sigmoid(out(h)_i + nade_v[i] .
    sigmoid(nade_bias(h) + nade_w[:, <i] v_<i)); nade_w [N, K], nade_v [K, N]."""

    def __init__(self, hidden, outputs, config):
        super().__init__()
        n = int(config.get("model.nade_hidden") or 150)  # 0 = chorus's default, 150
        self.outputs, self.nade_hidden = outputs, n
        self.out = nn.Linear(hidden, outputs)
        self.nade_bias = nn.Linear(hidden, n)
        self.nade_w = nn.Parameter(torch.empty(n, outputs))
        self.nade_v = nn.Parameter(torch.empty(outputs, n))
        nn.init.uniform_(self.nade_w, -1 / math.sqrt(outputs), 1 / math.sqrt(outputs))
        nn.init.uniform_(self.nade_v, -1 / math.sqrt(n), 1 / math.sqrt(n))

    def logits(self, top, values):
        """Each key's logit given the keys below it (teacher forcing): [..., K]. Computed as chorus
        does: one hidden layer per distinct prefix of sounding keys."""
        K, N = self.outputs, self.nade_hidden
        lead = values.shape[:-1]
        v = values.reshape(-1, K)
        h = top.reshape(-1, top.shape[-1])
        R = v.shape[0]
        key = torch.arange(K, dtype=torch.float32, device=v.device)
        most = int(v.sum(-1).max()) if R > 0 else 0
        bias = self.nade_bias(h).unsqueeze(1)  # [R, 1, N]
        if most == 0:
            distinct = bias
        else:
            score, order = torch.topk(v.to(torch.float32) * (K - key), most, dim=-1)
            on = (score > 0).to(top.dtype).unsqueeze(-1)
            columns = self.nade_w.t().index_select(0, order.reshape(-1)).view(R, most, N) * on
            distinct = torch.cat([bias, bias + columns.cumsum(1)], dim=1)
        below = v.cumsum(-1) - v
        P = distinct.shape[1]
        read = torch.sigmoid(distinct).reshape(R * P, N).mm(self.nade_v.t()).view(R, P, K)
        logit = read.gather(1, below.unsqueeze(1)).squeeze(1)
        return (self.out(h) + logit).view(*lead, K)

    def nll(self, top, targets):
        return F.binary_cross_entropy_with_logits(self.logits(top, targets), targets.to(top.dtype),
                                                  reduction="none").sum(-1)

    def sample(self, top, sampling, engine):
        """Each stream's keys drawn in order in double precision, exactly as chorus draws them."""
        from .draw import uniform_01
        with torch.no_grad():
            visible = self.out(top).double().tolist()
            hidden = self.nade_bias(top).double().tolist()
            w = self.nade_w.double().t().tolist()  # [K][N]: the column added when key i sounds
            v = self.nade_v.double().tolist()      # [K][N]
        K, N, T = self.outputs, self.nade_hidden, sampling.temperature
        drawn = []
        for b in range(len(visible)):
            a = list(hidden[b])
            denominators = [1.0 + math.exp(-x) for x in a]
            keys = [0] * K
            for i in range(K):
                logit, vi = visible[b][i], v[i]
                for n in range(N):
                    logit += vi[n] / denominators[n]
                p = 1.0 / (1.0 + math.exp(-logit / T))
                if uniform_01(engine) < p:
                    keys[i] = 1
                    wi = w[i]
                    a = [a[n] + wi[n] for n in range(N)]
                    denominators = [1.0 + math.exp(-x) for x in a]
            drawn.append(keys)
        return torch.tensor(drawn, dtype=torch.long)


RECURRENCES = {"lstm": LstmStack, "gru": GruStack}
HEADS = {"softmax": SoftmaxHead, "independent": IndependentHead, "nade": NadeHead}
