"""Dutch (and a few Belgian) names, streets, cities and postcodes for demo customers."""

MALE_FIRST_NAMES = (
    "Jan", "Pieter", "Kees", "Hans", "Willem", "Henk", "Gerrit", "Dirk", "Johan", "Joost",
    "Bram", "Daan", "Sem", "Lucas", "Finn", "Thijs", "Ruben", "Jesse", "Lars", "Tim",
    "Sander", "Bas", "Martijn", "Erik", "Marco", "Frank", "Rob", "Jeroen", "Maarten", "Wouter",
    "Niels", "Koen", "Stijn", "Jasper", "Mark", "Michiel", "Arjen", "Rutger", "Hugo", "Floris",
    "Teun", "Gijs", "Mees", "Luuk", "Milan", "Levi", "Noah", "Jelle", "Sjoerd", "Wim",
    "Ad", "Cor", "Theo", "Ton", "Frits", "Huub", "Joris", "Olivier", "Tijmen", "Vincent",
)  # fmt: skip

FEMALE_FIRST_NAMES = (
    "Anna", "Maria", "Johanna", "Els", "Ingrid", "Marieke", "Annemarie", "Sanne", "Lotte",
    "Emma", "Julia", "Sophie", "Tess", "Fleur", "Lisa", "Eva", "Anouk", "Iris", "Femke",
    "Noor", "Sara", "Mila", "Zoë", "Lieke", "Esther", "Marloes", "Petra", "Monique", "Linda",
    "Karin", "Wilma", "Ria", "Truus", "Greet", "Joke", "Mirjam", "Hanneke", "Judith", "Ilse",
    "Roos", "Evi", "Nina", "Isa", "Lynn", "Floor", "Merel", "Jet", "Anne", "Charlotte",
    "Saskia", "Yvonne", "Carla", "Wendy", "Mieke", "Nienke", "Renske", "Tamara", "Babette",
)  # fmt: skip

# (preposition or None, surname), with a weight: common names come up more often.
LAST_NAMES: tuple[tuple[str | None, str, int], ...] = (
    ("de", "Jong", 30), (None, "Jansen", 28), ("de", "Vries", 27), ("van den", "Berg", 20),
    ("van", "Dijk", 20), (None, "Bakker", 20), (None, "Janssen", 18), (None, "Visser", 18),
    (None, "Smit", 17), (None, "Meijer", 16), ("de", "Boer", 15), (None, "Mulder", 14),
    ("de", "Groot", 14), (None, "Bos", 14), (None, "Vos", 13), (None, "Peters", 13),
    (None, "Hendriks", 13), ("van", "Leeuwen", 12), (None, "Dekker", 12), (None, "Brouwer", 12),
    ("de", "Wit", 11), (None, "Dijkstra", 11), (None, "Smits", 11), ("de", "Graaf", 11),
    (None, "Kok", 10), ("van der", "Meer", 10), ("van der", "Linden", 9), (None, "Jacobs", 9),
    ("de", "Haan", 9), (None, "Vermeulen", 9), ("van den", "Heuvel", 9), ("van der", "Veen", 8),
    ("van den", "Broek", 8), ("de", "Bruijn", 8), ("de", "Bruin", 8), ("van der", "Heijden", 8),
    (None, "Schouten", 8), ("van", "Beek", 7), (None, "Willems", 7), ("van", "Vliet", 7),
    ("van de", "Ven", 7), (None, "Hoekstra", 7), (None, "Maas", 7), (None, "Verhoeven", 7),
    (None, "Koster", 7), ("van", "Dam", 7), ("van der", "Wal", 6), (None, "Prins", 6),
    (None, "Blom", 6), (None, "Huisman", 6), ("de", "Haas", 6), (None, "Peeters", 6),
    ("van", "Wijk", 6), (None, "Kuipers", 6), ("van", "Veen", 5), (None, "Post", 5),
    (None, "Kuiper", 5), ("van der", "Laan", 5), (None, "Veenstra", 5), (None, "Kramer", 5),
    ("van den", "Brink", 5), (None, "Scholten", 5), ("van", "Wijngaarden", 4), (None, "Postma", 4),
    (None, "Martens", 4), ("van der", "Zee", 4), (None, "Vink", 4), ("de", "Ruiter", 4),
    ("van", "Doorn", 4), (None, "Koning", 4), ("ter", "Horst", 3), ("te", "Velde", 3),
    ("van 't", "Hof", 3), ("in 't", "Veld", 2), ("van", "Rijn", 3), ("den", "Hartog", 3),
    (None, "Sanders", 3), (None, "Timmermans", 3), (None, "Bosman", 3), (None, "Wouters", 3),
    ("van", "Loon", 3), ("van der", "Velden", 3), (None, "Hermans", 3), (None, "Evers", 3),
    (None, "Claes", 2), (None, "Maes", 2), (None, "Wuyts", 2), ("van", "Damme", 2),
    (None, "El Amrani", 2), (None, "Yilmaz", 2), (None, "Bouzid", 1), (None, "Kaya", 2),
    (None, "Nguyen", 1), (None, "Tan", 1), (None, "Sedney", 1), (None, "Wong", 1),
)  # fmt: skip

STREETS = (
    "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat", "Julianastraat",
    "Beatrixlaan", "Wilhelminastraat", "Nieuwstraat", "Hoofdstraat", "Marktstraat", "Lindenlaan",
    "Eikenlaan", "Berkenlaan", "Kastanjelaan", "Parallelweg", "Industrieweg", "Sportlaan",
    "Prinses Irenestraat", "Oranjestraat", "Emmastraat", "Prins Bernhardlaan", "Spoorstraat",
    "Raadhuisstraat", "Tulpstraat", "Rozenstraat", "Sluisweg", "Dijkstraat", "Havenstraat",
    "Vondelstraat", "Rembrandtlaan", "Van Goghstraat", "Mozartlaan", "Beethovenstraat",
    "Herengracht", "Keizersgracht", "Prinsengracht", "Singel", "Oudegracht", "Voorstraat",
    "Achterweg", "Zuiderweg", "Noordeinde", "Westersingel", "Oosterstraat", "Burgemeester Smitlaan",
    "Koningin Julianaweg", "Van Speijkstraat", "De Ruijterstraat", "Tesselschadestraat",
)  # fmt: skip

# (city, first and last postcode number, telephone area code, weight)
NL_CITIES: tuple[tuple[str, int, int, str, int], ...] = (
    ("Amsterdam", 1011, 1109, "020", 40), ("Rotterdam", 3011, 3089, "010", 14),
    ("Den Haag", 2491, 2599, "070", 10), ("Utrecht", 3511, 3585, "030", 10),
    ("Haarlem", 2011, 2037, "023", 8), ("Amstelveen", 1181, 1189, "020", 6),
    ("Zaandam", 1501, 1509, "075", 5), ("Almere", 1311, 1364, "036", 6),
    ("Hilversum", 1211, 1223, "035", 4), ("Leiden", 2311, 2334, "071", 4),
    ("Alkmaar", 1811, 1827, "072", 3), ("Amersfoort", 3811, 3829, "033", 3),
    ("Purmerend", 1441, 1448, "0299", 3), ("Hoofddorp", 2131, 2136, "023", 3),
    ("Delft", 2611, 2629, "015", 2), ("Eindhoven", 5611, 5658, "040", 2),
    ("Groningen", 9711, 9747, "050", 2), ("Nijmegen", 6511, 6546, "024", 2),
    ("Arnhem", 6811, 6846, "026", 2), ("Zwolle", 8011, 8043, "038", 2),
    ("Weesp", 1381, 1384, "0294", 1), ("Diemen", 1111, 1113, "020", 2),
    ("Edam", 1135, 1137, "0299", 1), ("Bussum", 1401, 1406, "035", 1),
)  # fmt: skip

# (city, postcode) of Belgian customers: Belgian postcodes are four digits, no letters.
BE_CITIES: tuple[tuple[str, str], ...] = (
    ("Antwerpen", "2000"), ("Gent", "9000"), ("Brugge", "8000"), ("Leuven", "3000"),
    ("Mechelen", "2800"), ("Hasselt", "3500"), ("Brussel", "1000"), ("Turnhout", "2300"),
)  # fmt: skip

# The second half of a Dutch postcode: two letters, never F, I, O, Q, U or Y, and never SA,
# SD or SS (historically avoided combinations).
POSTCODE_LETTERS = tuple(
    a + b
    for a in "ABCDEGHJKLMNPRSTVWXZ"
    for b in "ABCDEGHJKLMNPRSTVWXZ"
    if a + b not in ("SA", "SD", "SS")
)

# Reserved example domains (RFC 2606 style): demo data must never mail a real person.
EMAIL_DOMAINS = (("example.nl", 6), ("example.com", 3), ("example.org", 1))
