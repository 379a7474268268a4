#include "text_cues.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "weft/core/utf8.h"

namespace weft::ai::internal {
namespace {

// Latin letters with diacritics, folded to what a hurried writer types.
std::string_view Fold(uint32_t cp) {
  switch (cp) {
    case 0xE0:
    case 0xE1:
    case 0xE2:
    case 0xE3:
    case 0xE4:
    case 0xE5:
    case 0xC0:
    case 0xC1:
    case 0xC2:
    case 0xC3:
    case 0xC4:
    case 0xC5: return "a";
    case 0xE7:
    case 0xC7: return "c";
    case 0xE8:
    case 0xE9:
    case 0xEA:
    case 0xEB:
    case 0xC8:
    case 0xC9:
    case 0xCA:
    case 0xCB: return "e";
    case 0xEC:
    case 0xED:
    case 0xEE:
    case 0xEF:
    case 0xCC:
    case 0xCD:
    case 0xCE:
    case 0xCF: return "i";
    case 0xF1:
    case 0xD1: return "n";
    case 0xF2:
    case 0xF3:
    case 0xF4:
    case 0xF5:
    case 0xF6:
    case 0xF8:
    case 0xD2:
    case 0xD3:
    case 0xD4:
    case 0xD5:
    case 0xD6:
    case 0xD8: return "o";
    case 0xF9:
    case 0xFA:
    case 0xFB:
    case 0xFC:
    case 0xD9:
    case 0xDA:
    case 0xDB:
    case 0xDC: return "u";
    case 0xFD:
    case 0xFF:
    case 0xDD: return "y";
    case 0xDF: return "ss";
    case 0x153:
    case 0x152: return "oe";
    case 0xE6:
    case 0xC6: return "ae";
    default: return {};
  }
}

bool IsWordByte(unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; }

// The cue lexicons. A trailing '*' matches any word the stem begins.
struct Lexicon {
  const char* cue;
  std::vector<const char*> words;
};

const std::vector<Lexicon>& Lexicons() {
  static const std::vector<Lexicon> lexicons = {
      {"urgent", {"urgent*",       "asap",     "immediately",    "emergency", "critical",  "crucial",  "urgence",
                  "immediatement", "urgente*", "inmediatamente", "ya",        "dringend*", "sofort",   "eilig",
                  "notfall",       "subito",   "immediatamente", "critique",  "critico",   "kritisch", "now",
                  "maintenant",    "ahora",    "jetzt",          "agora",     "adesso"}},
      {"time", {"today",    "tonight", "tomorrow",   "hour",    "hours",  "minute*", "morning",  "deadline", "eod",
                "friday",   "monday",  "aujourdhui", "demain",  "heure*", "matin",   "vendredi", "hoy",      "manana",
                "hora",     "horas",   "minuto*",    "viernes", "heute",  "morgen",  "stunde*",  "fruh",     "freitag",
                "oggi",     "domani",  "ora",        "ore",     "hoje",   "amanha",  "still",    "again",    "yet",
                "toujours", "encore",  "todavia",    "aun",     "immer",  "noch",    "ainda",    "ancora"}},
      {"outage",
       {"down",   "outage",     "offline",      "unreachable", "unavailable", "crash*",     "broken",   "broke",
        "fail*",  "error*",     "stopped",      "stuck",       "freez*",      "frozen",     "hang*",    "timeout*",
        "panne",  "plante*",    "bloque*",      "erreur*",     "marche",      "fonctionne", "caido",    "cae",
        "falla*", "atascad*",   "funciona",     "ausgefallen", "ausfall",     "absturz",    "sturzt",   "fehler*",
        "hangt",  "erreichbar", "funktioniert", "fora",        "blocca*",     "errore",     "funziona", "uso",
        "cierra", "fecha",      "500",          "404"}},
      {"lost", {"lost",         "lose",     "losing",   "missing", "disappear*", "deleted",   "delete", "overwritten",
                "wiped",        "gone",     "disparu*", "perdu*",  "supprime*",  "borr*",     "perdi*", "desaparec*",
                "verschwunden", "geloscht", "verloren", "sumi*",   "apag*",      "scompars*", "persi",  "cancellat*"}},
      {"money",
       {"charged",   "charge",  "charges",     "billed",    "debit*",    "taken",     "took",           "money",
        "refund*",   "fraud*",  "overcharged", "twice",     "double",    "deb*",      "preleve*",       "prelevement",
        "rembours*", "cobr*",   "cargo",       "reembolso", "abgebucht", "abbuchung", "ruckerstattung", "doppelt",
        "zweimal",   "estorno", "addebit*",    "rimborso",  "dinero",    "argent",    "geld",           "dinheiro",
        "soldi",     "deux",    "dos",         "duas",      "due"}},
      {"security", {"hack*",      "breach",  "leak*",    "compromised", "unauthori*",  "stolen",     "attack*",
                    "suspicious", "pirate*", "securit*", "segur*",      "sicherheit*", "invad*",     "gehackt",
                    "violacion",  "unknown", "inconnu*", "desconoc*",   "unbekannt*",  "sconosciut*"}},
      {"impact",
       {"customer*", "client*",    "everyone",  "everybody",   "nobody",       "noone",       "employees", "users",
        "team",      "production", "live",      "sales",       "revenue",      "orders",      "order",     "checkout",
        "payroll",   "business",   "launch",    "demo",        "presentation", "meeting",     "board",     "company",
        "tous",      "personne",   "commande*", "equipe",      "clientes",     "pedidos",     "ventas",    "todos",
        "nadie",     "equipo",     "kunden",    "bestellung*", "umsatz",       "mitarbeiter", "alle",      "niemand",
        "clienti",   "ordini",     "tutti",     "nessuno",     "ninguem",      "compras",     "comprar",   "pagar",
        "pay",       "paying",     "losing",    "rent",        "loyer",        "alquiler",    "miete",     "affitto",
        "aluguel"}},
      {"calm",
       {"question",   "curious",    "wonder*",       "whenever", "minor",      "small",      "little",   "suggest*",
        "feature",    "idea",       "thanks",        "thank",    "love",       "great",      "kudos",    "hurry",
        "rush",       "chance",     "petite",        "petit",    "merci",      "idee",       "pregunta", "gracias",
        "sugerir",    "sugerencia", "pequeno",       "frage",    "danke",      "vorschlag*", "kleiner",  "klein",
        "obrigad*",   "grazie",     "piccol*",       "domanda",  "curiosidad", "recommend*", "roadmap",  "webinar",
        "tutorial",   "guide",      "documentation", "typo",     "misspelled", "coquille",   "faute",    "ortografia",
        "tippfehler", "refuerzo",   "slightly",      "annoying", "harmless",   "odd",        "cosmetic"}},
      // Topics of support messages, across languages.
      {"access", {"login",     "log",       "logged",       "logout",     "sign",         "signin",       "signed",
                  "password*", "passwort*", "contrasena*",  "senha*",     "passe",        "account*",     "compte*",
                  "cuenta*",   "konto*",    "conta",        "access*",    "acces*",       "zugriff*",     "zugang*",
                  "2fa",       "factor",    "authenticat*", "authentif*", "verification", "verificacion", "verifica*",
                  "connexion", "connecter", "connecte",     "iniciar",    "sesion",       "session*",     "anmeld*",
                  "entrar",    "accedere",  "accedo",       "username",   "utilisateur",  "usuario",      "benutzer*",
                  "utente",    "usuario",   "admin*",       "invite*",    "invitation",   "invitacion",   "einladung",
                  "locked",    "lockout",   "sso",          "saml",       "okta",         "identifiant*", "codigo",
                  "code",      "codice"}},
      {"price",
       {"price*",      "pricing",     "cost*",         "cuesta",      "cuanto",       "prix",       "coute",
        "couter",      "tarif*",      "precio*",       "preis*",      "kostet",       "kosten",     "preco*",
        "custa",       "prezzo",      "costa",         "discount*",   "remise",       "descuento*", "rabatt*",
        "desconto",    "sconto",      "invoice*",      "factur*",     "rechnung*",    "fattur*",    "receipt*",
        "recu",        "recibo",      "quittung",      "ricevuta",    "payment*",     "paiement*",  "pago*",
        "zahlung*",    "pagament*",   "subscription*", "abonnement*", "suscripcion*", "abo",        "assinatura",
        "abbonament*", "vat",         "tva",           "iva",         "mwst",         "ust",        "tax*",
        "plan",        "plans",       "offre",         "plano",       "paket",        "licen*",     "seats",
        "billing",     "facturation", "card",          "carte",       "tarjeta",      "karte",      "cartao",
        "carta"}},
      {"info",
       {"integration*",
        "integracion*",
        "integrate",
        "integrieren",
        "integracao",
        "integrazione",
        "api",
        "roadmap",
        "webinar",
        "partner*",
        "sales",
        "ventes",
        "ventas",
        "vertrieb",
        "vendas",
        "vendite",
        "commercial*",
        "enterprise",
        "entreprise",
        "empresa*",
        "gdpr",
        "rgpd",
        "dsgvo",
        "soc",
        "iso",
        "certification*",
        "certificacion*",
        "zertifi*",
        "hosted",
        "heberge*",
        "stored",
        "gespeichert",
        "guardan",
        "hours",
        "horaires",
        "horario*",
        "offline",
        "android",
        "iphone",
        "ios",
        "hiring",
        "newsletter",
        "feedback",
        "reseller",
        "revendeur",
        "training",
        "formation",
        "onboarding",
        "tutorial",
        "documentation",
        "privacy",
        "confidentialite",
        "privacidad",
        "datenschutz",
        "contract",
        "contrat",
        "contrato",
        "vertrag",
        "contratto",
        "audit*",
        "auditor*",
        "auditeur*",
        "prufer",
        "agreement",
        "accord",
        "acuerdo"}},
      // Words that negate what follows (folded; contractions lose their
      // apostrophe: "can't" -> "cant").
      {"negation", {"not",    "no",      "never",  "cannot",  "cant",   "dont",    "doesnt",  "didnt",   "isnt",
                    "wont",   "wasnt",   "arent",  "havent",  "hasnt",  "couldnt", "nothing", "without", "ne",
                    "n",      "pas",     "jamais", "aucun",   "aucune", "rien",    "sans",    "nunca",   "nada",
                    "ningun", "ninguna", "sin",    "nicht",   "kein",   "keine",   "keinen",  "nie",     "nichts",
                    "ohne",   "nao",     "nenhum", "nenhuma", "sem",    "non",     "mai",     "niente",  "senza"}},
      {"ask",
       {"how",    "what",  "where", "which",   "when",    "who",  "why",    "can",    "could",  "would",  "is",
        "are",    "do",    "does",  "comment", "combien", "ou",   "quel",   "quelle", "quels",  "est",    "pouvez",
        "existe", "avez",  "como",  "cuanto",  "donde",   "cual", "cuando", "puedo",  "pueden", "tienen", "hay",
        "wie",    "was",   "wo",    "welche",  "wann",    "gibt", "konnen", "kann",   "haben",  "quanto", "onde",
        "qual",   "voces", "tem",   "avete",   "posso",   "dove", "quale"}},
  };
  return lexicons;
}

struct CueIndex {
  std::unordered_map<std::string, std::string> exact;  // word -> cue
  std::unordered_map<std::string, std::string> stems;  // stem -> cue
  size_t shortest_stem = SIZE_MAX;
  size_t longest_stem = 0;
};

const CueIndex& Index() {
  static const CueIndex index = [] {
    CueIndex i;
    for (const Lexicon& l : Lexicons()) {
      for (std::string_view w : l.words) {
        if (!w.empty() && w.back() == '*') {
          i.stems.emplace(std::string(w.substr(0, w.size() - 1)), l.cue);
          i.shortest_stem = std::min(i.shortest_stem, w.size() - 1);
          i.longest_stem = std::max(i.longest_stem, w.size() - 1);
        } else {
          i.exact.emplace(std::string(w), l.cue);
        }
      }
    }
    return i;
  }();
  return index;
}

std::string_view CueOf(const std::string& word) {
  const CueIndex& index = Index();
  if (auto it = index.exact.find(word); it != index.exact.end()) return it->second;
  // The longest stem the word begins with: a few lookups, however many
  // stems there are.
  for (size_t n = std::min(word.size(), index.longest_stem); n >= index.shortest_stem && n > 0; --n) {
    if (auto it = index.stems.find(word.substr(0, n)); it != index.stems.end()) return it->second;
  }
  return {};
}

}  // namespace

std::vector<std::string> FoldedWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\'' || (c == 0xE2 && text.substr(i, 3) == "\xE2\x80\x99")) {  // ' or ’
      // French elision (l', d', j', qu') splits; an English contraction
      // (can't, doesn't) joins.
      i += c == '\'' ? 1 : 3;
      if (cur.size() <= 2) flush();
      continue;
    }
    if (!IsWordByte(c)) {
      flush();
      ++i;
      continue;
    }
    if (c < 0x80) {
      cur += static_cast<char>(std::tolower(c));
      ++i;
      continue;
    }
    const size_t start = i;
    const uint32_t cp = DecodeUtf8(text, i);
    if (std::string_view f = Fold(cp); !f.empty()) {
      cur += f;
    } else {
      cur.append(text.substr(start, i - start));
    }
  }
  flush();
  return words;
}

std::vector<std::string> CueTokens(const std::vector<std::string>& words, std::string_view text) {
  std::vector<std::string> out;
  int negated = 0;  // words left in the current negation's scope
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const std::string_view cue = CueOf(w);
    if (cue == "negation") {
      negated = 3;
      out.emplace_back("cue:negation");
      continue;
    }
    if (cue == "ask") {  // common words: telling only where a message opens
      if (i == 0) out.emplace_back("shape:opens_with_question_word");
      continue;
    }
    if (negated > 0) {
      out.push_back("neg:" + w);
      if (!cue.empty()) out.push_back("negcue:" + std::string(cue));
      --negated;
    } else if (!cue.empty()) {
      out.push_back("cue:" + std::string(cue));
    }
  }
  // The message's shape: a question, exclamations, shouting.
  const size_t bang = std::count(text.begin(), text.end(), '!');
  if (text.find('?') != std::string_view::npos) out.emplace_back("shape:question");
  if (bang > 0) out.emplace_back("shape:exclamation");
  if (bang > 1) out.emplace_back("shape:exclamations");
  int caps_words = 0;
  size_t run = 0;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') {
      ++run;
    } else {
      if (run >= 3) ++caps_words;
      run = 0;
    }
  }
  if (run >= 3) ++caps_words;
  if (caps_words > 0) out.emplace_back("shape:shouting");
  if (words.size() <= 6) out.emplace_back("shape:short");
  return out;
}

}  // namespace weft::ai::internal
