"""The words and places demo data is made of: product names per category, people's names,
cities with their zip formats. Data, not logic; the generator draws from it."""

import numpy as np


def _options(text: str) -> tuple[str, ...]:
    """Word lists are written as 'a|b|c' to keep them compact and readable."""
    return tuple(word.strip() for word in text.split("|"))


# category: (adjectives, nouns, suffixes where "" means none, has a model number)
WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]] = {
    "Electronics": (
        _options("Wireless|Smart|Portable|Ultra|Noise-Cancelling|Compact|4K"),
        _options(
            "Headphones|Speaker|Smartwatch|Tablet|Monitor|Keyboard|Webcam|Earbuds|Charger|Camera"
        ),
        _options("Pro|Max|Lite|Plus|Mini|"),
        True,
    ),
    "Books": (
        _options("The Art of|Mastering|A Short History of|Understanding|Secrets of|Everyday"),
        _options("Data Science|Cooking|Mindfulness|Leadership|the Ocean|Startups|Gardening"),
        _options("|(Paperback)|(Hardcover)|(2nd Edition)"),
        False,
    ),
    "Home & Kitchen": (
        _options("Stainless|Non-Stick|Ceramic|Bamboo|Deluxe|Electric"),
        _options("Frying Pan|Blender|Knife Set|Coffee Maker|Cutting Board|Kettle|Toaster"),
        _options("|Classic|XL|Set of 4"),
        True,
    ),
    "Apparel": (
        _options("Slim-Fit|Organic Cotton|Classic|Waterproof|Merino|Relaxed"),
        _options("T-Shirt|Jeans|Hoodie|Jacket|Sneakers|Dress|Sweater|Socks"),
        _options("|Essential|Premium"),
        False,
    ),
    "Sports": (
        _options("Adjustable|Lightweight|Pro|Foldable|Carbon|Outdoor"),
        _options("Yoga Mat|Dumbbells|Tennis Racket|Running Shoes|Bike Helmet|Water Bottle"),
        _options("|Elite|Sport|Trainer"),
        True,
    ),
    "Beauty": (
        _options("Hydrating|Vitamin C|Matte|Natural|Anti-Aging|Gentle"),
        _options("Face Serum|Lipstick|Moisturizer|Shampoo|Eye Cream|Face Mask|Perfume|Sunscreen"),
        _options("|Intense|Daily|Travel Size"),
        False,
    ),
    "Automotive": (
        _options("Heavy-Duty|Universal|LED|All-Weather|Magnetic"),
        _options("Car Charger|Floor Mats|Dash Cam|Tire Inflator|Seat Covers|Phone Mount"),
        _options("|Pro|Plus"),
        True,
    ),
    "Food & Beverage": (
        _options("Organic|Single-Origin|Gluten-Free|Artisan|Dark|Roasted"),
        _options("Coffee Beans|Green Tea|Olive Oil|Chocolate|Honey|Granola|Pasta|Almonds"),
        _options("|Family Pack|500 g|1 kg"),
        False,
    ),
    "Toys": (
        _options("Wooden|Interactive|Educational|Magnetic|Plush|Remote-Control"),
        _options("Building Blocks|Puzzle|Robot|Teddy Bear|Race Car|Board Game|Train Set"),
        _options("|Junior|Deluxe"),
        True,
    ),
    "Health": (
        _options("Daily|Plant-Based|Sugar-Free|Digital|Ergonomic|Advanced"),
        _options("Multivitamin|Protein Powder|Thermometer|Omega-3|Massage Gun|First Aid Kit"),
        _options("|Plus|Forte|60 Capsules"),
        False,
    ),
}
FEATURES = (
    "Built to last and easy to use.",
    "A customer favourite for everyday use.",
    "Carefully designed with quality materials.",
    "Great value with a two-year warranty.",
    "Perfect as a gift.",
    "Rated highly by thousands of buyers.",
)
FIRST_NAMES = _options(
    "James|Mary|Robert|Patricia|John|Jennifer|Michael|Linda|David|Elizabeth|William|Barbara|"
    "Richard|Susan|Joseph|Jessica|Thomas|Sarah|Carlos|Maria|Ahmed|Fatima|Wei|Mei|Hiroshi|Yuki|"
    "Raj|Priya|Lukas|Anna|Pierre|Camille|Olga|Ivan|Kwame|Amara|Liam|Emma|Noah|Olivia|Sofia|Mateo"
)
LAST_NAMES = _options(
    "Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Hernandez|Lopez|"
    "Wilson|Anderson|Taylor|Thomas|Moore|Martin|Lee|Perez|Thompson|White|Harris|Clark|Lewis|"
    "Walker|Young|Allen|King|Wright|Scott|Patel|Kumar|Chen|Wang|Kim|Nguyen|Muller|Schmidt|"
    "Dubois|Rossi|Silva|Santos|Okafor|Mensah|Ivanova|Novak|Tanaka|Sato"
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
STREETS = (
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Park",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Station",
    "Church",
    "Market",
    "Mill",
    "River",
    "Victoria",
    "King",
)
STREET_TYPES = ("St", "Ave", "Rd", "Blvd", "Lane", "Way", "Drive")
# (city, country, zip pattern: '#' digit, '@' letter, relative weight)
CITIES: tuple[tuple[str, str, str, float], ...] = (
    ("New York", "United States", "#####", 3.0),
    ("Los Angeles", "United States", "#####", 2.5),
    ("Chicago", "United States", "#####", 2.0),
    ("Houston", "United States", "#####", 1.5),
    ("Seattle", "United States", "#####", 1.2),
    ("Toronto", "Canada", "@#@ #@#", 1.2),
    ("Vancouver", "Canada", "@#@ #@#", 0.8),
    ("London", "United Kingdom", "@@# #@@", 2.0),
    ("Manchester", "United Kingdom", "@@# #@@", 0.8),
    ("Berlin", "Germany", "#####", 1.2),
    ("Munich", "Germany", "#####", 0.8),
    ("Paris", "France", "#####", 1.2),
    ("Lyon", "France", "#####", 0.5),
    ("Madrid", "Spain", "#####", 0.8),
    ("Rome", "Italy", "#####", 0.7),
    ("Amsterdam", "Netherlands", "#### @@", 0.6),
    ("Sydney", "Australia", "####", 0.9),
    ("Melbourne", "Australia", "####", 0.7),
    ("Mumbai", "India", "######", 1.5),
    ("Bangalore", "India", "######", 1.2),
    ("Tokyo", "Japan", "###-####", 1.0),
    ("Sao Paulo", "Brazil", "#####-###", 1.0),
    ("Mexico City", "Mexico", "#####", 0.8),
    ("Singapore", "Singapore", "######", 0.6),
)
CITY_P = np.array([c[3] for c in CITIES]) / sum(c[3] for c in CITIES)
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
ZIP_WIDTH = 9  # longest zip pattern


def _zip_format(pattern: str) -> str:
    """'@#@ #@#' -> '{1[0]}{0[0]}{1[1]} {0[1]}{1[2]}{0[2]}': one str.format per address."""
    out, digit, letter = [], 0, 0
    for ch in pattern:
        if ch == "#":
            out.append(f"{{0[{digit}]}}")
            digit += 1
        elif ch == "@":
            out.append(f"{{1[{letter}]}}")
            letter += 1
        else:
            out.append(ch)
    return "".join(out)


ZIP_FORMATS = tuple(_zip_format(c[2]) for c in CITIES)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
