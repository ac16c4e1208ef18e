"""Unit tests of the loader's pieces that need no chorus binary: chorus's random draws, its UTF-8
decoder and song normalisation, the MIDI writer and reader (round trip), the resolved-config
reader, and the parts' parameter names (model.pt's). Run by tests/python/loader.sh."""
import os
import tempfile
import unittest

import torch

from chorus_torch import checkpoint, draw, midi, midi_read, parts, text


class DrawTest(unittest.TestCase):
    def test_mt19937_64_matches_the_standard(self):
        engine = draw.Mt19937_64()  # default seed 5489: C++11 names its 10000th draw
        for _ in range(9999):
            engine()
        self.assertEqual(engine(), 9981545732273789042)

    def test_uniform_uses_the_top_53_bits(self):
        e = draw.Mt19937_64(1)
        raw = draw.Mt19937_64(1)()
        self.assertEqual(draw.uniform_01(e), (raw >> 11) * 2.0 ** -53)

    def test_pick_symbol(self):
        e = draw.Mt19937_64(3)
        self.assertEqual(draw.pick_symbol([0.0, 2.0, 1.0], 1.0, "argmax", e), 1)
        counts = [0, 0, 0]
        for _ in range(3000):
            counts[draw.pick_symbol([0.0, float("-inf"), 0.0], 1.0, "multinomial", e)] += 1
        self.assertEqual(counts[1], 0)  # an excluded symbol is never drawn
        self.assertGreater(min(counts[0], counts[2]), 1300)
        self.assertNotEqual(draw.pick_symbol([0.0, float("-inf")], 1.0, "gumbel", e), 1)


class TextTest(unittest.TestCase):
    def test_normalisation(self):
        self.assertEqual(text.to_text(text.normalise_song("\n \nWhy  \r\nnot  \n\n ")), "Why\nnot")
        self.assertEqual(text.to_text(text.normalise_song("a \nb\t\nc")), "a \nb\t\nc")

    def test_invalid_utf8_is_one_replacement_per_byte(self):
        self.assertEqual(text.decode_utf8(b"a\xc3(\xe2\x82"), [0x61, 0xFFFD, 0x28, 0xFFFD, 0xFFFD])
        self.assertEqual(text.decode_utf8(b"\xc0\xaf"), [0xFFFD, 0xFFFD])  # overlong
        self.assertEqual(text.decode_utf8("\u00e9\u266a".encode()), [0xE9, 0x266A])


class MidiTest(unittest.TestCase):
    def test_round_trip(self):
        frames = [[0] * 88 for _ in range(10)]
        for f in range(2, 7):
            frames[f][39] = 1  # middle C held over five frames: one note
        frames[4][60] = 1
        data = midi.encode_midi(frames, frames_per_quarter=4)
        self.assertEqual(data[:4], b"MThd")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "a.mid")
            midi.write_midi(data, path)
            self.assertEqual(midi_read.read_midi(path, 4), frames)  # trailing rests kept

    def test_bad_file_names_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.mid")
            with open(path, "wb") as f:
                f.write(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x09\x00\x90\x3c")
            with self.assertRaisesRegex(ValueError, "bad.mid: .*truncated"):
                midi_read.read_midi(path)


class ConfigTest(unittest.TestCase):
    def test_reads_chorus_resolved_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "config.yaml"), "w") as f:
                f.write('run:\n  dir: "a \\"b\\"\\tc"\n  seed: 7\nmodel:\n  kind: "chars"\n'
                        '  dropout: 0.25\ndata:\n  valid_split: ""\ntrain:\n  recompute_every: auto\n')
            c = checkpoint.read_config(tmp)
            self.assertEqual(c["run.dir"], 'a "b"\tc')
            self.assertEqual((c["run.seed"], c["model.dropout"]), (7, 0.25))
            self.assertEqual((c["data.valid_split"], c["train.recompute_every"]), ("", "auto"))

    def test_unreadable_line_is_named(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "config.yaml"), "w") as f:
                f.write("model:\n- nonsense\n")
            with self.assertRaisesRegex(checkpoint.CheckpointError, r"config.yaml:2"):
                checkpoint.read_config(tmp)


class PartsTest(unittest.TestCase):
    def test_parameter_names_are_model_pt_names(self):
        cfg = {"model.nade_hidden": 5}
        names = set()
        for m in (parts.SymbolFeatures(10, 4, 3, 2), parts.LstmStack(6, 8, 2), parts.GruStack(6, 8, 1),
                  parts.NadeHead(8, 88, cfg)):
            names |= set(m.state_dict())
        self.assertTrue({"embed.weight", "artist_embed.weight", "lstm0.weight_ih_l0", "lstm1.bias_hh_l0",
                         "gru0.weight_hh_l0", "out.weight", "nade_bias.bias", "nade_w", "nade_v"} <= names)

    def test_nade_likelihood_is_the_key_by_key_product(self):
        torch.manual_seed(0)
        head = parts.NadeHead(6, 88, {"model.nade_hidden": 7})
        top, v = torch.randn(2, 6), (torch.rand(2, 88) < 0.1).long()
        loops = []
        for b in range(2):  # p(v_i | v_<i) one key at a time
            a, total = head.nade_bias(top[b]), 0.0
            for i in range(88):
                logit = head.out(top[b])[i] + head.nade_v[i] @ torch.sigmoid(a)
                total -= torch.nn.functional.logsigmoid(logit if v[b, i] else -logit)
                a = a + head.nade_w[:, i] * v[b, i]
            loops.append(total)
        self.assertTrue(torch.allclose(head.nll(top, v), torch.stack(loops), rtol=1e-5))


if __name__ == "__main__":
    unittest.main()
