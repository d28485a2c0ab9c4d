"""Word lists for synthetic people, companies and jobs (common Dutch names; invented firms)."""

from __future__ import annotations

from schemas.vocabulary import Sector

__all__ = [
    "COMPANY_SUFFIXES",
    "COMPANY_WORDS",
    "FAMILY_NAMES",
    "GIVEN_NAMES",
    "JOBS",
    "PREFIXES",
    "STREETS",
]

# fmt: off
GIVEN_NAMES = (
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Noah", "Jesse", "Bram", "Thijs",
    "Mohammed", "Ahmet", "Youssef", "Kees", "Henk", "Jan", "Piet", "Willem", "Ricardo", "Dewi",
    "Emma", "Julia", "Sophie", "Tess", "Anna", "Sanne", "Lotte", "Eva", "Fleur", "Noor",
    "Fatima", "Yasmina", "Ayse", "Petra", "Ingrid", "Marieke", "Esther", "Monique", "Priya",
    "Gabriela", "Tomasz", "Agnieszka", "Kevin", "Shanti", "Joost", "Ruud", "Linda", "Wendy",
)
PREFIXES = ("", "", "", "", "", "van", "de", "van der", "van den", "van de", "el", "ter", "den")
FAMILY_NAMES = (
    "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters", "Hendriks",
    "Dijk", "Berg", "Wit", "Dekker", "Brouwer", "Boer", "Veen", "Kok", "Jacobs", "Vermeulen",
    "Yilmaz", "Amrani", "Idrissi", "Kaya", "Tahiri", "Nowak", "Kowalski", "Soekhoe", "Martina",
    "Groot", "Huisman", "Koster", "Prins", "Willems", "Sanders", "Post", "Kuipers", "Hoekstra",
)
STREETS = (
    "Dorpsstraat", "Kerkstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Julianalaan",
    "Beatrixstraat", "Wilhelminastraat", "Nieuwstraat", "Markt", "Parallelweg", "Eikenlaan",
    "Lindelaan", "Sportlaan", "Industrieweg", "Havenstraat", "Prinses Irenestraat", "Veldweg",
)
COMPANY_WORDS = (
    "Noord", "Zuid", "Delta", "Polder", "Horizon", "Amstel", "Maas", "Rijn", "Waal", "Kempen",
    "Veluwe", "Duin", "Gouden", "Oranje", "Zeeuws", "Brabants", "Twents", "Fries", "Hollands",
)
COMPANY_SUFFIXES = ("B.V.", "N.V.", "Groep", "& Zn.", "Holding B.V.", "Coöperatie U.A.")
# fmt: on
JOBS: dict[Sector, tuple[str, ...]] = {
    Sector.HOSPITALITY: ("Kok", "Bediening", "Afwasser", "Gastvrouw", "Barmedewerker"),
    Sector.CULTURE: ("Podiumtechnicus", "Grafisch ontwerper", "Kassamedewerker museum"),
    Sector.SPORT_RECREATION: ("Sportinstructeur", "Recreatiemedewerker", "Badmeester"),
    Sector.AVIATION: ("Grondsteward", "Bagagemedewerker", "Beveiliger luchthaven"),
    Sector.ORNAMENTAL_HORTICULTURE: ("Kwekerijmedewerker", "Snijder", "Orderverzamelaar bloemen"),
    Sector.RENTAL_BUSINESS_SERVICES: ("Reisadviseur", "Intercedent", "Receptionist"),
    Sector.RETAIL: ("Verkoopmedewerker", "Caissière", "Vakkenvuller", "Bakker"),
    Sector.HEALTHCARE: ("Helpende", "Verzorgende IG", "Verpleegkundige", "Doktersassistent"),
    Sector.EDUCATION: ("Onderwijsassistent", "Conciërge", "Leraar basisonderwijs"),
    Sector.CONSTRUCTION: ("Timmerman", "Metselaar", "Installatiemonteur"),
    Sector.TECHNOLOGY_ICT: ("Servicedeskmedewerker", "Monteur", "Netwerkbeheerder"),
    Sector.LOGISTICS: ("Orderpicker", "Heftruckchauffeur", "Vrachtwagenchauffeur"),
    Sector.MANUFACTURING: ("Productiemedewerker", "Operator", "Lasser"),
    Sector.AGRICULTURE: ("Melkveehouder", "Tuinder", "Loonwerker"),
    Sector.PUBLIC_ADMINISTRATION: ("Baliemedewerker", "Administratief medewerker"),
    Sector.FINANCIAL_SERVICES: ("Klantadviseur", "Boekhouder"),
    Sector.OTHER: ("Schoonmaker", "Beveiliger", "Postbezorger"),
}
