#!/usr/bin/env python3
"""Generate twin/models/imagenet_labels.json: ImageNet-1k classes → Rekognition-style labels.

    python3 twin/models/labels_table.py TIMM_WHEEL WORDNET_BASE_DEB

Python standard library only (`make labels-table` downloads the two inputs, pinned by hash):
- the class order: `timm/data/_info/imagenet_synsets.txt` in the PyPI `timm` 1.0.31 wheel (Apache-2.0),
  the 1,000 ImageNet-1k WordNet ids in the order classifiers output them;
- the taxonomy: WordNet 3.0 `data.noun` from the Debian package `wordnet-base` 1:3.0-37 (WordNet
  licence); an ImageNet id `nXXXXXXXX` is the offset of its noun synset there.

For each class the labels are its own name (first lemma, title case) and the Rekognition names of
its WordNet hypernyms listed in VOCABULARY (the label names Rekognition uses, with their category
and any parent Rekognition gives them that WordNet does not, e.g. Knife → Weapon). A label's
`parents` are the vocabulary labels above it; its `categories` the category of the label or of its
nearest parent that has one. The output is committed; argus-twin embeds it.
"""

from __future__ import annotations

import io
import json
import lzma
import sys
import tarfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "imagenet_labels.json"

# WordNet first lemma of a hypernym synset -> (Rekognition label, category or "", extra parents).
VOCABULARY: dict[str, tuple[str, str, list[str]]] = {
    "animal": ("Animal", "Animals and Pets", []),
    "mammal": ("Mammal", "Animals and Pets", []),
    "domestic_animal": ("Pet", "Animals and Pets", []),
    "dog": ("Dog", "Animals and Pets", ["Pet"]),
    "domestic_cat": ("Cat", "Animals and Pets", ["Pet"]),
    "big_cat": ("Wildlife", "Animals and Pets", []),
    "bird": ("Bird", "Animals and Pets", []),
    "fish": ("Fish", "Animals and Pets", []),
    "reptile": ("Reptile", "Animals and Pets", []),
    "snake": ("Snake", "Animals and Pets", []),
    "amphibian": ("Amphibian", "Animals and Pets", []),
    "insect": ("Insect", "Animals and Pets", []),
    "spider": ("Spider", "Animals and Pets", []),
    "primate": ("Primate", "Animals and Pets", []),
    "monkey": ("Monkey", "Animals and Pets", []),
    "bear": ("Bear", "Animals and Pets", []),
    "equine": ("Horse", "Animals and Pets", []),
    "bovid": ("Cattle", "Animals and Pets", []),
    "rodent": ("Rodent", "Animals and Pets", []),
    "weapon": ("Weapon", "Weapons and Military", []),
    "gun": ("Gun", "Weapons and Military", ["Weapon"]),
    "firearm": ("Firearm", "Weapons and Military", ["Weapon", "Gun"]),
    "pistol": ("Handgun", "Weapons and Military", ["Weapon", "Gun"]),
    "rifle": ("Rifle", "Weapons and Military", ["Weapon", "Gun"]),
    "knife": ("Knife", "Weapons and Military", ["Weapon", "Blade"]),
    "sword": ("Sword", "Weapons and Military", ["Weapon", "Blade"]),
    "bow": ("Bow", "Weapons and Military", ["Weapon"]),
    "projectile": ("Missile", "Weapons and Military", ["Weapon"]),
    "edge_tool": ("Blade", "Tools and Machinery", []),
    "tool": ("Tool", "Tools and Machinery", []),
    "vehicle": ("Vehicle", "Vehicles and Automotive", ["Transportation"]),
    "motor_vehicle": ("Motor Vehicle", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "car": ("Car", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "truck": ("Truck", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "bicycle": ("Bicycle", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "aircraft": ("Aircraft", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "airplane": ("Airplane", "Vehicles and Automotive", ["Aircraft", "Vehicle", "Transportation"]),
    "boat": ("Boat", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "ship": ("Ship", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "spacecraft": ("Spaceship", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "rocket": ("Rocket", "Vehicles and Automotive", ["Vehicle", "Transportation"]),
    "food": ("Food", "Food and Beverage", []),
    "beverage": ("Beverage", "Food and Beverage", []),
    "coffee": ("Coffee", "Food and Beverage", ["Beverage"]),
    "edible_fruit": ("Fruit", "Food and Beverage", ["Food", "Plant"]),
    "vegetable": ("Vegetable", "Food and Beverage", ["Food", "Plant"]),
    "dish": ("Meal", "Food and Beverage", ["Food"]),
    "cup": ("Cup", "Kitchen and Dining", []),
    "drinking_vessel": ("Cup", "Kitchen and Dining", []),
    "tableware": ("Tableware", "Kitchen and Dining", []),
    "cutlery": ("Cutlery", "Kitchen and Dining", []),
    "kitchen_utensil": ("Kitchen Utensil", "Kitchen and Dining", []),
    "clothing": ("Clothing", "Apparel and Accessories", []),
    "headdress": ("Hat", "Apparel and Accessories", ["Clothing"]),
    "footwear": ("Shoe", "Apparel and Accessories", ["Clothing", "Footwear"]),
    "building": ("Building", "Buildings and Architecture", []),
    "furniture": ("Furniture", "Home and Indoors", []),
    "computer": ("Computer", "Technology and Computing", ["Electronics"]),
    "electronic_equipment": ("Electronics", "Technology and Computing", []),
    "musical_instrument": ("Musical Instrument", "Hobbies and Interests", []),
    "ball": ("Ball", "Sports", ["Sport"]),
    "sports_equipment": ("Sports Equipment", "Sports", []),
    "flower": ("Flower", "Plants and Flowers", ["Plant"]),
    "vascular_plant": ("Plant", "Plants and Flowers", []),
    "fungus": ("Fungus", "Plants and Flowers", []),
    "geological_formation": ("Nature", "Nature and Outdoors", ["Outdoors"]),
    "person": ("Person", "Person Description", []),
}


def synsets_in_order(timm_wheel: Path) -> list[str]:
    with zipfile.ZipFile(timm_wheel) as z:
        return z.read("timm/data/_info/imagenet_synsets.txt").decode().split()


def data_noun(deb: Path) -> str:
    """`usr/share/wordnet/data.noun` of the .deb (an ar archive holding data.tar.xz)."""
    raw = deb.read_bytes()
    if not raw.startswith(b"!<arch>\n"):
        raise SystemExit(f"{deb} is not a Debian package")
    pos = 8
    while pos < len(raw):
        name = raw[pos:pos + 16].decode().strip().rstrip("/")
        size = int(raw[pos + 48:pos + 58].decode().strip())
        body = raw[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)
        if name.startswith("data.tar"):
            data = lzma.decompress(body) if name.endswith(".xz") else body
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                member = t.extractfile("./usr/share/wordnet/data.noun")
                if member is None:
                    break
                return member.read().decode("latin-1")
    raise SystemExit(f"{deb}: no usr/share/wordnet/data.noun")


def parse(data: str) -> dict[str, tuple[list[str], list[str]]]:
    """offset -> (lemmas, hypernym offsets) for every noun synset."""
    out = {}
    for line in data.splitlines():
        if line.startswith("  "):
            continue
        fields = line.split(" | ")[0].split()
        offset, w_cnt = fields[0], int(fields[3], 16)
        lemmas = [fields[4 + 2 * i] for i in range(w_cnt)]
        p = 4 + 2 * w_cnt
        p_cnt = int(fields[p])
        hypernyms = []
        for i in range(p_cnt):
            symbol, target, pos = fields[p + 1 + 4 * i: p + 4 + 4 * i]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append(target)
        out[offset] = (lemmas, hypernyms)
    return out


def title(lemma: str) -> str:
    words = lemma.replace("_", " ").split()
    return " ".join(w if any(c.isupper() for c in w) else w.capitalize() for w in words)


def ancestors(synsets, offset: str) -> list[str]:
    """Every hypernym above `offset`, nearest first (breadth first, each once)."""
    seen, queue, order = {offset}, [offset], []
    while queue:
        current = queue.pop(0)
        for h in synsets[current][1]:
            if h not in seen:
                seen.add(h)
                order.append(h)
                queue.append(h)
    return order


def main() -> int:
    wnids = synsets_in_order(Path(sys.argv[1]))
    synsets = parse(data_noun(Path(sys.argv[2])))
    labels: dict[str, dict] = {}
    classes = []

    def add_label(name: str, parents: list[str], category: str) -> None:
        entry = labels.setdefault(name, {"parents": [], "categories": []})
        for p in parents:
            if p != name and p not in entry["parents"]:
                entry["parents"].append(p)
        if category and category not in entry["categories"]:
            entry["categories"].append(category)

    for index, wnid in enumerate(wnids):
        offset = wnid[1:]
        lemmas, _ = synsets[offset]
        chain = [offset] + ancestors(synsets, offset)
        vocab = []  # (name, category, extra parents, synset), nearest first
        for a in chain:
            first = synsets[a][0][0].lower()
            if first in VOCABULARY and VOCABULARY[first][0] not in [v[0] for v in vocab]:
                vocab.append(VOCABULARY[first] + (a,))
        names = [v[0] for v in vocab]
        for name, category, extra, synset in vocab:
            # Parents: the vocabulary labels among this label's own hypernyms.
            own_above = [VOCABULARY[synsets[h][0][0].lower()][0] for h in ancestors(synsets, synset)
                         if synsets[h][0][0].lower() in VOCABULARY]
            above = list(dict.fromkeys(own_above + extra))
            for e in extra:
                add_label(e, [], next((v[1] for v in VOCABULARY.values() if v[0] == e), ""))
            add_label(name, above, category)
        leaf = title(lemmas[0])
        own = []
        if leaf not in names:
            category = vocab[0][1] if vocab else ""
            add_label(leaf, names + [p for v in vocab for p in v[2]], category)
            own = [leaf]
        extra_names = [p for v in vocab for p in v[2]]
        classes.append({
            "index": index,
            "wnid": wnid,
            "name": leaf,
            "labels": list(dict.fromkeys(own + names + extra_names)),
        })
    OUT.write_text(json.dumps({
        "source": "ImageNet-1k order from timm 1.0.31 (imagenet_synsets.txt); hypernyms from WordNet 3.0 "
                  "(Debian wordnet-base 1:3.0-37); generated by twin/models/labels_table.py",
        "classes": classes,
        "labels": dict(sorted(labels.items())),
    }, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(classes)} classes, {len(labels)} labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
