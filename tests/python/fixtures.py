"""Tiny corpora for the python-labelled tests, generated (no shared data): a songdata-style CSV
of 48 songs by 3 artists (quoted multi-line lyrics with the "  \\n" quirk, one song with a
character outside ASCII), and piano-roll text splits (train.txt, valid.txt) of chord-and-melody
songs. Usage: python3 fixtures.py DIR"""
import os
import random
import sys

WORDS = ("why do the birds sing all day long and the sky is blue my love come home "
         "tonight we dance under a silver moon la la la oh yeah never let go").split()


def lyrics(path, songs=48):
    rng = random.Random(5)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("artist,song,link,text\r\n")
        for i in range(songs):
            lines = []
            for _ in range(rng.randint(3, 7)):
                lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))))
            if i == 7:
                lines.append("caf\u00e9 \u266a")  # two code points outside the usual alphabet
            text = "  \n".join(lines).replace('"', '""')
            title = "%s %s %d" % (rng.choice(WORDS).title(), rng.choice(WORDS), i)
            f.write('Artist %d,%s,/x/%d.html,"%s  \n"\r\n' % (i % 3, title, i, text))


def rolls(directory):
    rng = random.Random(9)
    os.makedirs(directory, exist_ok=True)
    for split, count in (("train", 30), ("valid", 8)):
        with open(os.path.join(directory, split + ".txt"), "w") as f:
            for _ in range(count):
                root = rng.choice((48, 50, 53, 55))
                for t in range(rng.randint(20, 60)):
                    if rng.random() < 0.05:
                        f.write("-\n")
                        continue
                    chord = [root, root + 4, root + 7] if (t // 4) % 2 == 0 else [root + 5, root + 9, root + 12]
                    melody = 60 + rng.choice((0, 2, 4, 5, 7, 9, 11, 12))
                    f.write(" ".join(str(n) for n in chord + [melody]) + "\n")
                f.write("\n")


if __name__ == "__main__":
    lyrics(os.path.join(sys.argv[1], "songs.csv"))
    rolls(os.path.join(sys.argv[1], "rolls"))
