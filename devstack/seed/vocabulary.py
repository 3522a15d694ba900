"""The reference vocabulary: vendors, program families, districts, towns and names."""

from __future__ import annotations

from typing import NamedTuple

# prefix: (vendor, credential type, share of its assessments the vendor badges, digits)
VENDORS = {
    "CTTC": ("CareerTech Testing Center", "certification", 0.0, 5),
    "NCCER": ("NCCER", "certification", 0.7, 5),
    "ASE": ("ASE Education Foundation", "certification", 0.3, 4),
    "ICAR": ("I-CAR", "micro-credential", 1.0, 4),
    "AWS": ("American Welding Society", "certification", 0.5, 4),
    "NIMS": ("National Institute for Metalworking Skills", "certification", 0.6, 4),
    "OCIB": ("Oklahoma Construction Industries Board", "license", 0.0, 4),
    "ESCO": ("ESCO Institute", "certification", 0.5, 3),
    "OBN": ("Oklahoma Board of Nursing", "license", 0.0, 4),
    "OSDH": ("Oklahoma State Department of Health", "license", 0.0, 4),
    "NHA": ("National Healthcareer Association", "certification", 1.0, 4),
    "PTCB": ("Pharmacy Technician Certification Board", "certification", 1.0, 3),
    "NREMT": ("National Registry of Emergency Medical Technicians", "certification", 0.0, 4),
    "AHA": ("American Heart Association", "micro-credential", 0.0, 4),
    "DANB": ("Dental Assisting National Board", "certification", 0.5, 4),
    "OSBC": ("Oklahoma State Board of Cosmetology and Barbering", "license", 0.0, 4),
    "SERVSF": ("National Restaurant Association", "certification", 0.0, 4),
    "ACF": ("American Culinary Federation", "certification", 0.0, 4),
    "CMPTIA": ("CompTIA", "certification", 1.0, 4),
    "CISCO": ("Cisco", "certification", 1.0, 4),
    "ECC": ("EC-Council", "certification", 1.0, 4),
    "MOS": ("Microsoft", "certification", 1.0, 3),
    "INTUIT": ("Intuit", "certification", 1.0, 3),
    "ADOBE": ("Adobe", "certification", 1.0, 3),
    "AUTODK": ("Autodesk", "certification", 1.0, 3),
    "PLTW": ("Project Lead The Way", "micro-credential", 0.5, 4),
    "CDA": ("Council for Professional Recognition", "certification", 0.0, 4),
    "CLEET": ("Council on Law Enforcement Education and Training", "license", 0.0, 4),
    "IFSAC": ("OSU Fire Service Training", "certification", 0.0, 4),
    "DPS": ("Oklahoma Department of Public Safety", "license", 0.0, 4),
    "FAA": ("Federal Aviation Administration", "license", 0.0, 4),
    "EETC": ("Equipment and Engine Training Council", "certification", 0.5, 4),
    "OSHA": ("CareerSafe", "micro-credential", 1.0, 3),
    "ACTWK": ("ACT WorkKeys", "certification", 1.0, 3),
    "WIN": ("WIN Learning", "micro-credential", 0.0, 4),
}


class Family(NamedTuple):
    """A kind of program: its CIP code, the vendors testing it, the areas they test."""

    name: str
    cip: str
    vendors: tuple[str, ...]
    topics: tuple[str, ...]


FAMILIES = (
    Family("Automotive Service Technology", "47.0604", ("ASE", "CTTC"),
            ("Engine Repair", "Automatic Transmission", "Manual Drive Train", "Brakes",
             "Suspension and Steering", "Electrical Systems", "Engine Performance")),
    Family("Collision Repair", "47.0603", ("ICAR", "ASE", "CTTC"),
            ("Painting and Refinishing", "Non-Structural Analysis", "Structural Analysis",
             "Mechanical and Electrical", "Damage Estimating")),
    Family("Diesel and Heavy Equipment", "47.0605", ("ASE", "CTTC"),
            ("Diesel Engines", "Drive Train", "Hydraulics", "Truck Brakes",
             "Preventive Maintenance Inspection")),
    Family("Welding Technology", "48.0508", ("AWS", "NCCER", "CTTC"),
            ("Welding Level 1", "Welding Level 2", "SMAW Plate", "GMAW", "FCAW", "GTAW",
             "Pipe Welding")),
    Family("Precision Machining", "48.0501", ("NIMS", "CTTC"),
            ("Measurement, Materials and Safety", "Job Planning", "CNC Milling",
             "CNC Turning", "Drill Press")),
    Family("Electrical Technology", "46.0302", ("NCCER", "OCIB", "CTTC"),
            ("Electrical Level 1", "Electrical Level 2", "Residential Wiring",
             "Apprentice Electrician", "National Electrical Code")),
    Family("Carpentry", "46.0201", ("NCCER", "CTTC"),
            ("Core Curriculum", "Carpentry Level 1", "Carpentry Level 2", "Framing",
             "Finish Carpentry")),
    Family("Heating, Ventilation and Air Conditioning", "47.0201", ("ESCO", "NCCER", "CTTC"),
            ("EPA Section 608 Type I", "EPA Section 608 Type II", "EPA Section 608 Universal",
             "HVAC Level 1", "Refrigeration Fundamentals")),
    Family("Plumbing", "46.0503", ("NCCER", "OCIB", "CTTC"),
            ("Plumbing Level 1", "Plumbing Level 2", "Apprentice Plumber",
             "Drain, Waste and Vent")),
    Family("Practical Nursing", "51.3901", ("OBN", "CTTC", "AHA"),
            ("Licensed Practical Nurse", "Pharmacology", "Medical-Surgical Nursing",
             "IV Therapy")),
    Family("Health Careers Certification", "51.2601", ("OSDH", "AHA", "CTTC"),
            ("Certified Nurse Aide", "Home Health Aide", "Medication Aide",
             "Long-Term Care Aide", "Medical Terminology")),
    Family("Medical Assisting", "51.0801", ("NHA", "CTTC"),
            ("Certified Clinical Medical Assistant", "Phlebotomy Technician",
             "EKG Technician", "Medical Administrative Assistant")),
    Family("Pharmacy Technician", "51.0805", ("PTCB", "NHA", "CTTC"),
            ("Pharmacy Technician", "Sterile Compounding", "Pharmacy Calculations")),
    Family("Emergency Medical Technician", "51.0904", ("NREMT", "AHA", "CTTC"),
            ("Emergency Medical Responder", "Emergency Medical Technician",
             "Advanced EMT")),
    Family("Dental Assisting", "51.0601", ("DANB", "CTTC"),
            ("Radiation Health and Safety", "Infection Control", "Dental Assisting")),
    Family("Cosmetology", "12.0401", ("OSBC", "CTTC"),
            ("Cosmetologist", "Barber", "Manicurist", "Facialist", "Cosmetology Theory")),
    Family("Culinary Arts", "12.0500", ("SERVSF", "ACF", "CTTC"),
            ("ServSafe Food Handler", "ServSafe Manager", "Certified Fundamentals Cook",
             "Baking and Pastry")),
    Family("Computer Networking", "11.0901", ("CMPTIA", "CISCO", "CTTC"),
            ("A+ Core 1", "A+ Core 2", "Network+", "CCNA", "Network Fundamentals")),
    Family("Cybersecurity", "11.1003", ("CMPTIA", "CISCO", "ECC", "CTTC"),
            ("Security+", "CyberOps Associate", "Ethical Hacking Essentials",
             "Cybersecurity Fundamentals")),
    Family("Programming and Software Development", "11.0201", ("CTTC", "CMPTIA"),
            ("Programming Fundamentals", "Java Programming", "Python Programming",
             "Web Development", "Database Fundamentals")),
    Family("Business and Office Administration", "52.0401", ("MOS", "INTUIT", "CTTC"),
            ("Word Associate", "Excel Associate", "PowerPoint Associate",
             "Business Management", "Office Procedures")),
    Family("Accounting", "52.0302", ("INTUIT", "MOS", "CTTC"),
            ("QuickBooks Certified User", "Accounting Fundamentals", "Payroll",
             "Excel Expert")),
    Family("Graphic Design and Digital Media", "50.0409", ("ADOBE", "CTTC"),
            ("Photoshop", "Illustrator", "InDesign", "Premiere Pro", "Digital Media Design")),
    Family("Early Care and Education", "19.0709", ("CDA", "CTTC"),
            ("Child Development Associate", "Early Childhood Foundations",
             "Infant and Toddler Care")),
    Family("Criminal Justice", "43.0107", ("CLEET", "CTTC"),
            ("Unarmed Security Guard", "Armed Security Guard", "Criminal Justice Foundations",
             "Corrections Officer")),
    Family("Fire Fighting", "43.0203", ("IFSAC", "CTTC"),
            ("Firefighter I", "Firefighter II", "Hazardous Materials Awareness",
             "Hazardous Materials Operations")),
    Family("Commercial Truck Driving", "49.0205", ("DPS", "CTTC"),
            ("Commercial Learner Permit", "CDL Class A", "CDL Class B", "Hazmat Endorsement")),
    Family("Aviation Maintenance", "47.0607", ("FAA", "CTTC"),
            ("General", "Airframe", "Powerplant", "Aviation Fundamentals")),
    Family("Power Equipment Technology", "47.0606", ("EETC", "CTTC"),
            ("Two-Stroke Engines", "Four-Stroke Engines", "Electrical Systems",
             "Driveline and Hydraulics")),
    Family("Pre-Engineering", "15.0000", ("PLTW", "AUTODK", "CTTC"),
            ("Introduction to Engineering Design", "Principles of Engineering",
             "AutoCAD Certified User", "Inventor Certified User", "Digital Electronics")),
)

# Credentials any program may cover: safety, first aid, work readiness.
CROSS_CUTTING = (
    ("OSHA", "OSHA 10-Hour General Industry"),
    ("OSHA", "OSHA 10-Hour Construction"),
    ("AHA", "Heartsaver CPR AED"),
    ("AHA", "Heartsaver First Aid"),
    ("ACTWK", "National Career Readiness Certificate"),
    ("WIN", "Career Readiness Credential"),
    ("CTTC", "Employability Skills"),
)
ASSESSMENTS_PER_FAMILY = 10
# The first few assessments of a family are always badgeable by the agency, so every
# program can produce eligible rows whatever the seed.
ALWAYS_BADGEABLE = 3

DISTRICTS = (
    "Autry", "Caddo Kiowa", "Canadian Valley", "Central", "Chisholm Trail",
    "Eastern Oklahoma County", "Francis Tuttle", "Gordon Cooper", "Great Plains",
    "Green Country", "High Plains", "Indian Capital", "Kiamichi", "Meridian", "Metro",
    "Mid-America", "Mid-Del", "Moore Norman", "Northeast", "Northwest", "Pioneer",
    "Pontotoc", "Red River", "Southern", "Southwest", "Tri County", "Tulsa", "Wes Watkins",
    "Western",
)
TOWNS = (
    "Ada", "Afton", "Altus", "Alva", "Anadarko", "Antlers", "Ardmore", "Atoka", "Bartlesville",
    "Broken Arrow", "Burns Flat", "Chickasha", "Choctaw", "Claremore", "Clinton", "Drumright",
    "Duncan", "El Reno", "Elk City", "Enid", "Fairview", "Fort Cobb", "Frederick", "Goodwell",
    "Guthrie", "Guymon", "Hugo", "Idabel", "Jenks", "Kingfisher", "Lawton", "Madill",
    "McAlester", "Miami", "Midwest City", "Moore", "Muskogee", "Newcastle", "Norman",
    "Okmulgee", "Oklahoma City", "Owasso", "Pauls Valley", "Ponca City", "Poteau", "Pryor",
    "Sallisaw", "Sapulpa", "Sayre", "Seminole", "Shawnee", "Stigler", "Stillwater",
    "Stilwell", "Tahlequah", "Talihina", "Tishomingo", "Tulsa", "Wayne", "Weatherford",
    "Wetumka", "Wewoka", "Woodward", "Wynnewood", "Yukon",
)
SITES = 60
UNACCREDITED_SITES = 4
PROGRAMS_PER_FAMILY = 5
UNAPPROVED_PROGRAMS = 12

FIRST_NAMES = (
    "Aiden", "Alyssa", "Andrés", "Angel", "Anaïs", "Ava", "Brayden", "Brianna", "Caleb",
    "Camila", "Carter", "Chloé", "Cody", "Dakota", "Daniela", "Destiny", "Diego", "Elijah",
    "Emma", "Ethan", "Evelyn", "Gabriel", "Grace", "Hailey", "Hunter", "Isaiah", "Jacob",
    "Jada", "Jasmine", "Jayden", "Jesús", "José", "Josiah", "Kaitlyn", "Kaylee", "Keanu",
    "Kimberly", "Landon", "Layla", "Liam", "Lily", "Logan", "Lucía", "Madison", "María",
    "Mary Kate", "Mason", "Mateo", "Mia", "Minh", "Naomi", "Nathan", "Nevaeh", "Nicolás",
    "Noah", "Noé", "Olivia", "Paisley", "Renée", "Riley", "Sage", "Samuel", "Savannah",
    "Sofía", "Taylor", "Thanh", "Trinity", "Tristan", "Tyler", "Wyatt", "Ximena", "Zoë",
    "Jo-Ann", "D'Andre", "Shi'Anne", "Bao", "Priya", "Hannah", "Cheyenne", "Wren",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy",
    "Cook", "Rogers", "García", "Rodríguez", "Martínez", "Hernández", "López", "González",
    "Pérez", "Sánchez", "Ramírez", "Gómez", "Jiménez", "Núñez", "Peña", "Muñoz", "Ibáñez",
    "Álvarez", "Gutiérrez", "De La Cruz", "O'Brien", "O'Neal", "O'Connor", "D'Amico",
    "McIntosh", "Nguyen", "Tran", "Pham", "Le", "Patel", "Kim", "Harjo", "Fixico",
    "Yahola", "Chupco", "Tiger", "Sixkiller", "Hummingbird", "Tehee", "Bushyhead",
    "Swimmer", "Ketcher", "Deerinwater", "Bearpaw", "Lookingglass", "Wolfe", "Proctor",
    "Goodvoice", "Washington", "Jefferson", "Freeman", "Haskell", "Whitehorse",
)
PERSONAL_DOMAINS = ("example.com", "example.net", "example.org")

