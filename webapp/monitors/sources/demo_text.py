"""Texts of the demo source: mentions of a fictional product, the "Acme Rocket" espresso machine
by Acme Coffee (reviews, complaints, praise, support questions, a few lines in other languages),
built from templates x slot values x tone phrases. Handles are invented, links use example.com/.org.

`compose(position)` gives the mention at any position of the demo's endless replay from its own
seeded random generator, so the demo never runs out of new texts and two runs agree exactly;
scripts/make_demo_data.py writes the bundled sample file from the same templates.
"""
from __future__ import annotations

import random

SEED = 42
# Share of each intended tone; non-English lines count as neutral.
MIX = {"positive": 0.45, "negative": 0.30, "neutral": 0.21, "foreign": 0.04}

SLOTS: dict[str, list[str]] = {
    "rocket": ["Acme Rocket", "the Acme Rocket", "my Acme Rocket", "the Rocket", "my Rocket",
               "the Acme Rocket espresso machine", "this Rocket"],
    "Rocket": ["The Acme Rocket", "My Acme Rocket", "The Rocket", "My Rocket",
               "The Acme Rocket espresso machine"],
    "drink": ["espresso", "flat white", "cappuccino", "latte", "cortado", "americano",
              "ristretto", "macchiato", "double shot", "lungo"],
    "part": ["steam wand", "portafilter", "drip tray", "water tank", "pressure gauge",
             "group head", "control dial", "boiler", "shower screen", "power switch"],
    "period": ["two days", "a week", "two weeks", "a month", "three months", "six months",
               "a year", "eight months"],
    "days": [str(n) for n in (3, 4, 5, 6, 8, 9, 10, 12, 14, 15, 18, 21, 30)],
    "order": [str(n) for n in range(40211, 99989, 1373)],
    "price": ["$349", "$379", "$399", "$429", "$449"],
    "color": ["matte black", "cherry red", "brushed steel", "mint green", "cream white"],
    "time": ["6am", "5:30am", "7am", "8pm", "noon", "midnight"],
    "version": ["1.2", "1.3", "1.4.1", "2.0", "2.1"],
    "count": ["two", "three", "four", "five", "six"],
    "person": ["my partner", "my roommate", "my dad", "my sister", "my neighbour",
               "my coworker", "my mom", "my brother-in-law"],
    "place": ["the office", "our kitchen", "the studio", "my tiny apartment", "the cafe corner",
              "the break room"],
    "n": [str(n) for n in range(2, 40)],
}

POSITIVE = [
    "Love {rocket} so much!",
    "{Rocket} is amazing. Best {drink} I've made at home.",
    "Just pulled the perfect {drink} on {rocket}. So happy with this machine!",
    "{period} in and {rocket} still makes a great {drink} every morning.",
    "Honestly the best purchase I made this year. {Rocket} is fantastic.",
    "The {part} on {rocket} is a joy to use. Great build quality.",
    "Acme Coffee support was super helpful and fixed my {part} question in minutes. Thank you!",
    "{person} tried a {drink} from {rocket} and now wants one too. Highly recommend.",
    "Finally nailed latte art with {rocket}. Proud of this one!",
    "Delicious {drink} and the {color} finish looks beautiful on the counter.",
    "Arrived {days} days early, well packed, and works perfectly. Great job Acme Coffee!",
    "Firmware {version} made the warm-up much faster. Nice update!",
    "Worth every penny of the {price}. {Rocket} is excellent.",
    "Replaced our old machine with {rocket} at {place}. Everyone loves it.",
    "Morning ritual upgraded: {rocket} + fresh beans = pure joy",
    "I was skeptical but {rocket} is genuinely impressive. Rich crema, great flavor.",
    "Customer service at Acme Coffee is awesome, they sent a new {part} for free.",
    "{Rocket} heats up in under a minute. Love it.",
    "Such a fun machine. {count} {drink}s today and loving it!",
    "Best gift ever: {person} surprised me with {rocket}. Thank you!!",
    "Clean design, easy to use, great coffee. What more do you want?",
    "The new {color} Acme Rocket looks gorgeous. Excellent work Acme Coffee.",
    "Good machine, good price, good coffee. Happy customer.",
    "Wow. The {drink} from {rocket} tastes better than my favorite cafe. Amazing.",
    "Grateful for the clear manual. Setting up {rocket} was easy and fun.",
    "{Rocket} made my mornings so much better :)",
    "Descaling {rocket} took five minutes. Easy, quiet and clean. Love it.",
    "Great steam pressure, silky milk, happy me.",
    "Five stars for {rocket}. Reliable, beautiful and the {drink} is superb.",
    "Can confirm: {rocket} is worth the hype. Excellent espresso.",
    "Our team at {place} is thrilled with {rocket}. Best coffee break ever.",
    "Acme Coffee's shipping was fast and the packaging was great.",
    "Still impressed by {rocket} after {period}. Solid, consistent and fun.",
    "The {part} upgrade in the new batch is a great improvement. Well done!",
    "yes!! {rocket} finally arrived and the first {drink} is perfect",
    "Recommend {rocket} to anyone who loves good coffee.",
    "Pretty great little machine. The {drink} is smooth and sweet.",
    "Acme Rocket > every cafe in town. Love my home setup now.",
]

NEGATIVE = [
    "{Rocket} is leaking from the {part} again. Terrible.",
    "Worst purchase this year. {Rocket} broke after {period}.",
    "Really disappointed with {rocket}. The {drink} tastes bitter and burnt.",
    "Order #{order} still hasn't shipped after {days} days. Frustrating.",
    "Acme Coffee support ignored my emails for {days} days. Awful service.",
    "The {part} on {rocket} cracked. Cheap plastic, what a waste of {price}.",
    "{Rocket} is so loud it wakes up the whole house. Annoying.",
    "Firmware {version} broke the temperature control. Horrible update.",
    "{Rocket} arrived damaged and the box was crushed. Angry.",
    "Third replacement {part} and it's still failing. I hate this.",
    "Not happy. {Rocket} stopped heating after {period} and support won't answer.",
    "Why is the {drink} from {rocket} always sour? So frustrating.",
    "Refund denied for a broken machine. Terrible customer service from Acme Coffee.",
    "Do not buy {rocket}. Mine died after {period}. Total waste of money.",
    "The {part} keeps sticking. Awful to use every morning.",
    "{Rocket} smells like burning plastic. Scary and unacceptable.",
    "Ugh, {rocket} error light again. Useless machine.",
    "Delivery was a disaster: wrong color, missing {part}, no apology.",
    "Water everywhere on the counter. The {part} leaks badly. Awful.",
    "Paid {price} for this? The {drink} is weak and the build feels cheap.",
    "Support chat disconnected me {count} times. Ridiculous and useless.",
    "So disappointed. {Rocket} was great for {period} then completely failed.",
    "The pump on {rocket} sounds like it's dying. Worried and annoyed.",
    "Acme Coffee, please fix the {part} problem. This is a terrible experience.",
    "Tracking says delivered, nothing arrived. Order #{order}. Angry and tired of waiting.",
    "Sad to say {rocket} is going back. Too many problems.",
    "Another morning, another failed shot. {Rocket} is the worst.",
    "Hate the new firmware {version}. Everything is slower and buggy.",
]

NEUTRAL = [
    "{Rocket} arrived at my door today.",
    "Anyone know the boiler size of the Acme Rocket?",
    "How do I descale {rocket}?",
    "Can the {part} of {rocket} go in the dishwasher?",
    "Acme Coffee announced firmware {version} for {rocket}.",
    "Unboxing {rocket} tonight at {time}.",
    "What grind size do you use for a {drink} on {rocket}?",
    "Order #{order} shipped. Tracking info is in the email.",
    "The {color} Acme Rocket is listed at {price} on the Acme Coffee site.",
    "Does {rocket} work with 220V outlets?",
    "Switching from a stovetop pot to {rocket} next week.",
    "Acme Coffee will show the Rocket 2 at a trade show in March.",
    "Which {part} fits the older {rocket} models?",
    "Acme Rocket vs a manual lever machine for a small kitchen?",
    "Day {n} with {rocket}. Still learning the {part}.",
    "Firmware {version} changelog: new pre-infusion setting, updated shot timing.",
    "Question: how often should the {part} be replaced on {rocket}?",
    "Acme Coffee is moving its warehouse, orders may take {days} days.",
    "Testing {count} bean blends on {rocket} this weekend.",
    "Spotted {rocket} in the window of a store downtown.",
    "Where do I find the serial plate on {rocket}?",
    "Anyone using {rocket} at {place}?",
    "Acme Coffee opened a service center in the north district.",
    "Pulled a {drink} at 9 bar, 28 seconds, 18g in, 36g out.",
    "Acme Rocket manual, page {n}: how to set the shot timer.",
    "Thinking about the Acme Rocket or waiting for the next model.",
    "The Rocket 2 spec sheet lists a 1.8 liter water tank.",
    "Shipping update for order #{order}: out for delivery.",
    "Reading reviews of the Acme Rocket before deciding.",
    "Acme Coffee posted a video on dialing in the {drink}.",
]

FOREIGN = [
    "Mi Acme Rocket llegó hoy y el espresso sale increíble.",
    "¿Alguien sabe cómo descalcificar la Acme Rocket?",
    "La Acme Rocket fait un café délicieux, je suis ravie.",
    "Ma Acme Rocket fuit encore par le bas... déçu.",
    "Die Acme Rocket ist laut, aber der Espresso schmeckt hervorragend.",
    "Lieferung der Acme Rocket dauert schon drei Wochen.",
    "A Acme Rocket chegou hoje! O café ficou ótimo.",
    "La Acme Rocket fa un espresso buonissimo ogni mattina.",
    "Acme Rocketのエスプレッソ、毎朝たのしみ。",
    "Acme Rocket 到了，拿铁很好喝。",
    "Eindelijk een Acme Rocket in huis. De cappuccino is heerlijk.",
    "Acme Rocket w końcu dotarł. Kawa jest świetna.",
    "Zamówienie na Acme Rocket wciąż w drodze.",
    "Kahve makinesi Acme Rocket bugün geldi.",
    "Acme Rocket kahvi on tosi hyvää.",
    "Acme Rocket: ¿vale la pena por ese precio?",
]

# Sentences for paragraph-long posts (reviews, support threads, blog snippets).
PARAGRAPH = {
    "positive": [
        "I have had {rocket} for {period} now and it has been fantastic.",
        "The {drink} comes out rich and balanced with a thick crema.",
        "Warm-up is quick and the {part} feels solid and well made.",
        "Cleaning is easy, which matters when you make {count} drinks a day.",
        "Acme Coffee support answered my one question within an hour and were lovely.",
        "For {price} it is a great value compared to cafe prices.",
        "The {color} finish still looks beautiful.",
        "Overall I am very happy and would recommend it to friends.",
        "Steaming milk is smooth and the latte art practice is paying off.",
    ],
    "negative": [
        "I have had {rocket} for {period} and it has been a frustrating experience.",
        "The {part} started leaking in the second week.",
        "Support took {days} days to reply and then closed my ticket, which was infuriating.",
        "Shots are inconsistent and the {drink} is often bitter.",
        "For {price} the build quality is poor.",
        "The replacement {part} failed the same way, which is unacceptable.",
        "Shipping was slow and the box arrived damaged.",
        "I regret this purchase and would not recommend it.",
        "It is also loud enough to be annoying early in the morning.",
    ],
    "neutral": [
        "Some notes after setting up {rocket} at {place}.",
        "The water tank sits at the back and the {part} is on the right side.",
        "It uses a 58mm portafilter and ships with two baskets.",
        "Firmware {version} adds a pre-infusion setting in the menu.",
        "I measured a 25 to 30 second shot with 18g of coffee.",
        "The manual covers descaling on page {n}.",
        "Next I will compare it with a manual lever machine.",
    ],
}

HASHTAGS = ["#AcmeRocket", "#espresso", "#coffee", "#homebarista", "#coffeetime", "#latteart",
            "#morningcoffee", "#AcmeCoffee", "#coffeelover", "#baristalife"]
EMOJI = {
    "positive": ["☕", "🚀", "😍", "🙌", "❤️", "✨", "👌", "☕☕", "🔥"],
    "negative": ["😡", "😤", "🙄", "👎", "😞", "💸", "🤬"],
    "neutral": ["☕", "📦", "🤔", "👀", "📋"],
}
HANDLE_A = ["crema", "tamp", "brew", "bean", "steam", "grind", "latte", "mocha", "roast", "shot",
            "bloom", "drip", "milk", "froth", "puck", "basket", "portafilter", "ristretto"]
HANDLE_B = ["queen", "king", "nerd", "fan", "lab", "daily", "addict", "diaries", "works",
            "life", "club", "geek", "pilot", "corner", "whisperer", "notes", "maker"]
LINK_HOSTS = [
    "https://social.example.com/@{handle}/{num}",
    "https://social.example.com/@{handle}/{num}",
    "https://forum.example.org/t/acme-rocket/{num}",
    "https://reviews.example.com/acme-rocket/{num}",
    "https://blog.example.org/posts/{num}",
    "https://news.example.com/coffee/{num}",
]
INLINE_LINKS = ["https://example.com/acme-rocket", "https://support.example.com/rocket/descale",
                "https://blog.example.org/rocket-review", "https://example.org/rocket-tips"]


class _Filler(dict):
    """Slot values for one template: a random pick per slot name, reused within the template."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng

    def __missing__(self, key):
        value = self[key] = self.rng.choice(SLOTS[key])
        return value


def fill(template: str, rng: random.Random) -> str:
    text = template.format_map(_Filler(rng))
    return text[0].upper() + text[1:] if text else text


def paragraph(tone: str, rng: random.Random) -> str:
    """Three to five sentences, mostly of `tone` with at times a neutral aside."""
    pool = PARAGRAPH[tone]
    sentences = rng.sample(pool, rng.randint(3, min(5, len(pool))))
    if tone != "neutral" and rng.random() < 0.5:
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(PARAGRAPH["neutral"]))
    return " ".join(fill(s, rng) for s in sentences)


def decorate(text: str, tone: str, rng: random.Random) -> str:
    """Hashtags, emoji and inline links the way people actually post."""
    if rng.random() < 0.25:
        text += " " + " ".join(rng.sample(HASHTAGS, rng.randint(1, 3)))
    if rng.random() < 0.3:
        text += " " + rng.choice(EMOJI[tone])
    if rng.random() < 0.08:
        text += " " + rng.choice(INLINE_LINKS)
    return text


def handle(rng: random.Random) -> str:
    name = rng.choice(HANDLE_A) + rng.choice(["_", "", "."]) + rng.choice(HANDLE_B)
    return name + (str(rng.randint(1, 99)) if rng.random() < 0.4 else "")


def mention_text(tone: str, rng: random.Random) -> str:
    if tone == "foreign":
        return rng.choice(FOREIGN)
    if rng.random() < 0.15:
        return decorate(paragraph(tone, rng), tone, rng)
    pool = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}[tone]
    return decorate(fill(rng.choice(pool), rng), tone, rng)


TONES = tuple(MIX)


def tone_at(rng: random.Random) -> str:
    """A tone drawn with the MIX probabilities: the demo's sentiment mix stays the same all day,
    so rules on shares only fire when someone changes something."""
    x, total = rng.random(), 0.0
    for name in TONES:
        total += MIX[name]
        if x < total:
            return name
    return TONES[-1]


def compose(position: int, seed: int = SEED) -> dict:
    """The generated mention at `position`: {"text", "author", "url", "tone"}."""
    rng = random.Random(f"sentimon-demo:{seed}:{position}")
    tone = tone_at(rng)
    text = mention_text(tone, rng)
    author = handle(rng) if rng.random() < 0.95 else None
    url = None
    if rng.random() < 0.8:
        url = rng.choice(LINK_HOSTS).format(handle=author or "anon", num=rng.randint(100000, 999999))
    return {"text": text, "author": author, "url": url, "tone": tone}
