"""EU AI Act risk level of a described AI use case: unacceptable, high, limited or minimal.

Regulation (EU) 2024/1689 sorts AI uses into four tiers:

* **unacceptable**: the prohibited practices of Art. 5(1)(a)-(h): manipulative or
  subliminal techniques, exploiting vulnerabilities, social scoring, predicting crime from
  profiling alone, untargeted scraping of facial images, emotion recognition at work or in
  education, biometric categorisation by sensitive traits, real-time remote biometric
  identification in public spaces for law enforcement;
* **high**: the areas of Annex III (Art. 6(2)): biometrics, critical infrastructure,
  education, employment, essential services (public benefits, credit scoring, life and
  health insurance pricing, emergency dispatch), law enforcement, migration and border
  control, justice and democratic processes;
* **limited**: the transparency obligations of Art. 50: systems that talk with people
  (chatbots), generate synthetic content, or are deepfakes;
* **minimal**: everything else (Art. 95 voluntary codes of conduct).

The classifier is a documented rule table, not a model: each rule has its level, the
article or Annex III point it comes from, and phrase patterns in English and Portuguese;
a rule with several pattern groups needs one match from every group (emotion recognition
*and* a workplace or school). A rule may also name patterns that rule it out (Annex III
excludes fraud detection from credit scoring and 1:1 identity verification from
biometrics). The highest level matched wins; every matched rule is reported, so the
reasons are visible and arguable. No library classifies AI Act risk (the legal text is
the only reference), hence the hand-written rules. They read a description, not the
system: treat the result as a first triage that a person confirms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from odg_workbench.compliance.base import ComplianceError

__all__ = ["DOMAINS", "LEVELS", "RULES", "AIRiskAssessment", "RiskRule", "classify_ai_use_case"]

LEVELS = ("minimal", "limited", "high", "unacceptable")

HIGH_RISK_ARTICLES = ["Art. 6(2)", "Art. 9", "Art. 10", "Art. 11", "Art. 12", "Art. 13", "Art. 14", "Art. 15"]


@dataclass(frozen=True)
class RiskRule:
    """One rule: a level, where it comes from, what it covers, and its pattern groups."""

    id: str
    level: str
    article: str
    reason: str
    groups: tuple[tuple[str, ...], ...]
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class AIRiskAssessment:
    """The risk level of a use case, the articles that apply, and why."""

    level: str
    articles: list[str]
    reasons: list[str]
    matched: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "articles": list(self.articles),
            "reasons": list(self.reasons),
            "matched": list(self.matched),
            "rules": list(self.rules),
            "description": self.description,
        }


# Patterns are regular expressions over the normalised text (lower case, no accents,
# single spaces); \b is added around each one, so a pattern is a whole word or phrase
# unless it ends in \w* to allow endings.
_WORK = (
    r"workplaces?",
    r"at work",
    r"employees?",
    r"workers?",
    r"staff",
    r"call cent(er|re) agents?",
    r"local de trabalho",
    r"no trabalho",
    r"funcionari\w*",
    r"empregad\w*",
    r"colaborador\w*",
    r"trabalhador\w*",
)
_SCHOOL = (
    r"schools?",
    r"students?",
    r"pupils?",
    r"classrooms?",
    r"universit\w*",
    r"lectures?",
    r"escolas?",
    r"alunos?",
    r"estudantes?",
    r"salas? de aula",
    r"universidade\w*",
)
_EMOTION = (
    r"emotion\w* (recognition|detection|analysis|inference)",
    r"(recogni[sz]\w*|detect\w*|infer\w*|analy[sz]\w*|reads?|reading) (the )?(\w+ )?emotion\w*",
    r"(detect\w*|infer\w*|measur\w*) (\w+ )?(mood|stress|engagement|attention) from (their )?(face|facial|voice)",
    r"reconhecimento de emoc\w*",
    r"(detecta\w*|identifica\w*|infer\w*|analis\w*|ler|le) (as )?emoc\w*",
    r"analise de emoc\w*",
)
_FACE = (
    r"facial recognition",
    r"face recognition",
    r"recogni[sz]\w* faces",
    r"identif\w* (people|persons|individuals|suspects|faces)",
    r"remote biometric identification",
    r"biometric identification",
    r"reconhecimento facial",
    r"identificacao biometrica",
    r"identifica\w* (pessoas|suspeitos|rostos)",
)
_SENSITIVE_TRAITS = (
    r"race",
    r"racial",
    r"ethnic\w*",
    r"political (opinions?|views|orientation)",
    r"religio\w*",
    r"sexual orientation",
    r"trade union",
    r"sex life",
    r"raca",
    r"etnia",
    r"opiniao politica",
    r"opinioes politicas",
    r"orientacao sexual",
    r"religiao",
    r"filiacao sindical",
)

RULES: tuple[RiskRule, ...] = (
    # -- Art. 5: prohibited practices ---------------------------------------------------------------
    RiskRule(
        "art5-1a-manipulation",
        "unacceptable",
        "Art. 5(1)(a)",
        "subliminal, manipulative or deceptive techniques that distort behaviour",
        (
            (
                r"subliminal\w*",
                r"manipulat\w* (\w+ ){0,3}(behaviou?r|decisions?|choices|voters|users|people|consumers)",
                r"dark patterns?",
                r"subliminar\w*",
                r"manipula\w* (\w+ ){0,3}(comportamento|decis\w*|escolhas|eleitores|usuarios|pessoas|consumidores)",
            ),
        ),
    ),
    RiskRule(
        "art5-1b-vulnerabilities",
        "unacceptable",
        "Art. 5(1)(b)",
        "exploiting vulnerabilities due to age, disability or social or economic situation",
        (
            (
                r"exploit\w* (\w+ ){0,4}(vulnerab\w*|children|elderly|disabilit\w*|poverty|debt|addiction)",
                r"explor\w* (\w+ ){0,4}(vulnerab\w*|criancas|idosos|deficiencia|pobreza|divida\w*|vicio)",
            ),
        ),
    ),
    RiskRule(
        "art5-1c-social-scoring",
        "unacceptable",
        "Art. 5(1)(c)",
        "social scoring: rating people by social behaviour or personal traits for unrelated treatment",
        (
            (
                r"social scor\w*",
                r"social credit",
                r"citizen scor\w*",
                r"trustworthiness scor\w* (of|for) (citizens|people|residents)",
                r"pontuacao social",
                r"score social",
                r"credito social",
                r"pontua\w* (os )?cidadaos",
            ),
        ),
    ),
    RiskRule(
        "art5-1d-crime-prediction",
        "unacceptable",
        "Art. 5(1)(d)",
        "predicting that a person will commit a crime from profiling or personality traits alone",
        (
            (
                r"predict\w* (\w+ ){0,5}(commit\w*|crimes?|criminal\w*|offen[cs]\w*|reoffend\w*)",
                r"prever (\w+ ){0,5}(cometer|crimes?|criminos\w*|delit\w*)",
                r"preve (\w+ ){0,5}(cometer|crimes?|criminos\w*|delit\w*)",
            ),
            (
                r"profil\w*",
                r"personality",
                r"traits",
                r"perfil\w*",
                r"personalidade",
                r"caracteristicas pessoais",
                r"tracos",
            ),
        ),
    ),
    RiskRule(
        "art5-1e-face-scraping",
        "unacceptable",
        "Art. 5(1)(e)",
        "untargeted scraping of facial images from the internet or CCTV to build facial recognition databases",
        (
            (
                r"scrap\w*",
                r"harvest\w*",
                r"crawl\w*",
                r"untargeted",
                r"raspa\w*",
                r"coleta\w* (em massa|indiscriminad\w*)",
                r"varre\w*",
            ),
            (
                r"fac(e|ial) (images|photos|pictures)",
                r"faces",
                r"photos of (people|faces)",
                r"cctv",
                r"imagens faciais",
                r"rostos",
                r"fotos de (pessoas|rostos)",
            ),
        ),
    ),
    RiskRule(
        "art5-1f-emotion-work-school",
        "unacceptable",
        "Art. 5(1)(f)",
        "emotion recognition in the workplace or in education (outside medical or safety reasons)",
        (_EMOTION, _WORK + _SCHOOL),
        unless=(r"medical", r"safety", r"pilot fatigue", r"medic\w*", r"seguranca do trabalho"),
    ),
    RiskRule(
        "art5-1g-biometric-categorisation",
        "unacceptable",
        "Art. 5(1)(g)",
        "biometric categorisation inferring race, political opinions, union membership, religion or sex life",
        (
            (
                r"biometric\w*",
                r"fac(e|ial) (images|features|photos|analysis)",
                r"biometri\w*",
                r"imagens faciais",
                r"tracos faciais",
            ),
            (r"categori[sz]\w*", r"infer\w*", r"classif\w*", r"deduz\w*", r"predict\w*", r"prever", r"preve"),
            _SENSITIVE_TRAITS,
        ),
    ),
    RiskRule(
        "art5-1h-realtime-rbi",
        "unacceptable",
        "Art. 5(1)(h)",
        "real-time remote biometric identification in publicly accessible spaces for law enforcement",
        (
            (r"real[ -]?time", r"live", r"tempo real", r"ao vivo"),
            _FACE,
            (
                r"public (spaces?|places?|squares?)",
                r"publicly accessible",
                r"streets?",
                r"crowds?",
                r"stations?",
                r"espacos? publicos?",
                r"locais publicos",
                r"vias? publicas?",
                r"ruas?",
                r"multidao",
                r"estac\w*",
                r"pracas?",
            ),
            (r"police", r"law enforcement", r"policia\w*", r"seguranca publica", r"suspects?", r"suspeitos?"),
        ),
    ),
    # -- Annex III: high-risk areas ---------------------------------------------------------------------
    RiskRule(
        "annex3-1-biometrics",
        "high",
        "Annex III(1)",
        "biometrics: remote biometric identification, biometric categorisation, emotion recognition",
        (_FACE + _EMOTION + (r"biometric categori[sz]\w*", r"categorizacao biometrica"),),
        unless=(
            r"unlock\w*",
            r"verify (their|the users?|his|her) (own )?identity",
            r"desbloque\w*",
            r"confirmar (a )?identidade",
        ),
    ),
    RiskRule(
        "annex3-2-critical-infrastructure",
        "high",
        "Annex III(2)",
        "safety component in critical infrastructure (digital infrastructure, road traffic, water, gas, heating, electricity)",
        (
            (
                r"critical (digital )?infrastructure",
                r"(electricity|power|energy) grid",
                r"water (supply|distribution|treatment)",
                r"gas (supply|distribution|pipeline\w*)",
                r"heating (supply|network)",
                r"road traffic",
                r"traffic (lights?|signals?|control)",
                r"infraestrutura\w* critica\w*",
                r"rede eletrica",
                r"abastecimento de (agua|gas|energia)",
                r"distribuicao de (agua|gas|energia)",
                r"trafego (rodoviario|urbano)",
                r"semaforos?",
            ),
        ),
    ),
    RiskRule(
        "annex3-3-education",
        "high",
        "Annex III(3)",
        "education: admission, assignment, evaluation of learning outcomes, steering learning, proctoring",
        (
            (
                r"admissions?",
                r"(grade|grades|grading|score|scores|scoring|mark|marks|marking|evaluat\w*|assess\w*) (\w+ ){0,2}(exams?|essays?|tests?|students?|pupils?|applicants?)",
                r"(exam|test) proctoring",
                r"proctor\w*",
                r"cheating",
                r"learning outcomes",
                r"university applicants",
                r"entrance exams?",
                r"admissao",
                r"vestibular",
                r"(corrig\w*|correcao|avali\w*|notas?) (\w+ ){0,2}(provas?|redac\w*|alunos?|estudantes?|candidatos?)",
                r"cola em provas",
                r"resultados de aprendizagem",
            ),
        ),
    ),
    RiskRule(
        "annex3-4-employment",
        "high",
        "Annex III(4)",
        "employment: recruitment, screening candidates, decisions on promotion or termination, monitoring workers",
        (
            (
                r"recruit\w*",
                r"hiring",
                r"(screen|screens|screening|rank|ranks|ranking|shortlist\w*|filter\w*|evaluat\w*) (\w+ ){0,2}(cvs?|resumes?|candidates?|applicants?|job applications?)",
                r"job (applicants?|candidates?|interviews?)",
                r"(promotion|termination|dismissal|firing) decisions?",
                r"decide (\w+ ){0,3}(promot\w*|fire|dismiss\w*|terminat\w*)",
                r"(monitor\w*|evaluat\w*|assess\w*) (\w+ ){0,2}(employee|worker|staff)s? (performance|productivity|behaviou?r)",
                r"(employee|worker|staff) (performance|productivity) (monitoring|evaluation|scor\w*)",
                r"allocat\w* tasks",
                r"recrutamento",
                r"contratacao",
                r"(triagem|selecao|ranqueamento|filtr\w*|avali\w*) (\w+ ){0,2}(curriculos?|candidatos?)",
                r"candidatos? a (vagas?|emprego)",
                r"demiss\w*",
                r"promocao de funcionarios",
                r"desempenho (\w+ ){0,2}(funcionarios|empregados|colaboradores|trabalhadores)",
                r"(monitor\w*|avali\w*) (\w+ ){0,2}(funcionarios|empregados|colaboradores|trabalhadores)",
            ),
        ),
    ),
    RiskRule(
        "annex3-5a-public-benefits",
        "high",
        "Annex III(5)(a)",
        "eligibility for essential public assistance benefits and services",
        (
            (
                r"(welfare|social|public assistance|unemployment|housing|disability) benefits?",
                r"public assistance",
                r"social security",
                r"beneficios? (sociais|previdenciarios|assistenciais)",
                r"assistencia social",
                r"bolsa familia",
                r"auxilio\w*",
                r"seguro[- ]desemprego",
            ),
            (
                r"eligib\w*",
                r"grant\w*",
                r"revok\w*",
                r"approv\w*",
                r"elegib\w*",
                r"conced\w*",
                r"revog\w*",
                r"aprov\w*",
                r"decid\w*",
            ),
        ),
    ),
    RiskRule(
        "annex3-5b-credit",
        "high",
        "Annex III(5)(b)",
        "creditworthiness assessment or credit scoring of natural persons",
        (
            (
                r"credit ?(scor\w*|worthiness|rating|limit\w*|decisions?|risk)",
                r"creditworth\w*",
                r"loan (applications?|approvals?|eligibility|decisions?|applicants?)",
                r"(approve|approves|approving|reject|rejects|rejecting|decide) (\w+ ){0,3}loans?",
                r"mortgage (applications?|approvals?)",
                r"lend\w* decisions?",
                r"score de credito",
                r"analise de credito",
                r"concessao de (credito|emprestimos?)",
                r"(aprov\w*|negar|recus\w*) (\w+ ){0,3}(emprestimos?|financiamentos?|credito)",
                r"limite de credito",
                r"risco de credito",
            ),
        ),
        unless=(r"fraud\w*", r"fraude\w*"),
    ),
    RiskRule(
        "annex3-5c-insurance",
        "high",
        "Annex III(5)(c)",
        "risk assessment and pricing in life and health insurance",
        (
            (
                r"(life|health) insurance",
                r"seguros? de vida",
                r"seguros? (de )?saude",
                r"planos? de saude",
            ),
            (
                r"pric\w*",
                r"premiums?",
                r"risk",
                r"underwrit\w*",
                r"eligib\w*",
                r"preco\w*",
                r"precific\w*",
                r"premios?",
                r"risco",
                r"subscricao",
                r"elegib\w*",
            ),
        ),
    ),
    RiskRule(
        "annex3-5d-emergency",
        "high",
        "Annex III(5)(d)",
        "evaluating and classifying emergency calls, dispatching emergency services, triage of patients",
        (
            (
                r"emergency (calls?|services?|dispatch|response)",
                r"dispatch\w* (\w+ ){0,2}(ambulances?|police|firefighters?)",
                r"(patient|emergency) triage",
                r"triage of patients",
                r"chamadas? de emergencia",
                r"servicos? de emergencia",
                r"despach\w* (\w+ ){0,2}(ambulancias?|viaturas?|bombeiros)",
                r"triagem de pacientes",
                r"samu",
            ),
        ),
    ),
    RiskRule(
        "annex3-6-law-enforcement",
        "high",
        "Annex III(6)",
        "law enforcement: victim risk, polygraphs, evidence reliability, re-offending risk, profiling in investigations",
        (
            (
                r"law enforcement",
                r"police",
                r"polic(e|ing)",
                r"criminal investigations?",
                r"recidivism",
                r"re-?offend\w*",
                r"polygraph\w*",
                r"lie detect\w*",
                r"evidence (reliability|evaluation)",
                r"policia\w*",
                r"investigac\w* criminal\w*",
                r"reincidencia",
                r"detector de mentiras",
                r"poligrafo",
                r"provas? (criminais|periciais)",
            ),
        ),
    ),
    RiskRule(
        "annex3-7-migration",
        "high",
        "Annex III(7)",
        "migration, asylum and border control management",
        (
            (
                r"migra\w*",
                r"asylum",
                r"visa (applications?|applicants?|requests?)",
                r"residence permits?",
                r"border (control|crossing|security|checks?)",
                r"refugee\w*",
                r"immigra\w*",
                r"asilo",
                r"pedidos? de visto",
                r"vistos?",
                r"fronteira\w*",
                r"refugiad\w*",
                r"imigra\w*",
            ),
        ),
    ),
    RiskRule(
        "annex3-8-justice-democracy",
        "high",
        "Annex III(8)",
        "administration of justice and democratic processes (assisting judges, influencing elections)",
        (
            (
                r"judges?",
                r"judicial",
                r"courts?",
                r"sentenc\w*",
                r"rulings?",
                r"alternative dispute resolution",
                r"(influenc\w*|sway\w*|target\w*) (\w+ ){0,3}(elections?|referend\w*|voting|voters)",
                r"electoral",
                r"juiz\w*",
                r"juiza",
                r"judicia\w*",
                r"tribuna\w*",
                r"sentenc\w*",
                r"decisoes judiciais",
                r"(influenc\w*) (\w+ ){0,3}(eleic\w*|votos?|eleitores|referendo)",
                r"eleitora\w*",
            ),
        ),
        unless=(r"basketball courts?", r"tennis courts?", r"food courts?"),
    ),
    # -- Art. 50: transparency obligations (limited risk) ------------------------------------------------
    RiskRule(
        "art50-1-interaction",
        "limited",
        "Art. 50(1)",
        "a system that interacts directly with people (chatbot, virtual assistant): it must disclose it is AI",
        (
            (
                r"chat ?bots?",
                r"virtual assistants?",
                r"conversational (agent|ai|assistant|interface)s?",
                r"voice assistants?",
                r"answers? (customer|user|citizen)s?'? (questions|queries)",
                r"customer (service|support) (bot|agent|assistant)s?",
                r"assistentes? virtua\w*",
                r"atendimento automatizado",
                r"agente conversacional",
                r"responde\w* (\w+ ){0,2}(perguntas|duvidas) (de|dos) (clientes|usuarios|cidadaos)",
            ),
        ),
    ),
    RiskRule(
        "art50-2-synthetic-content",
        "limited",
        "Art. 50(2)",
        "generates synthetic audio, image, video or text: outputs must be marked as AI-generated",
        (
            (
                r"generat\w* (\w+ ){0,3}(images?|videos?|audio|voices?|text|articles|content|pictures|music|speech)",
                r"text[- ]to[- ](image|video|speech)",
                r"synthetic (media|images?|videos?|voices?|audio|content)",
                r"voice clon\w*",
                r"image generat\w*",
                r"ger(a|ar|acao de|ador de) (\w+ ){0,3}(imagens?|videos?|audios?|vozes|textos?|conteudos?|artigos|musicas?)",
                r"conteudos? sintetic\w*",
                r"clonagem de voz",
                r"ia generativa",
                r"generative ai",
            ),
        ),
    ),
    RiskRule(
        "art50-4-deepfake",
        "limited",
        "Art. 50(4)",
        "deep fakes: manipulated image, audio or video resembling real people must be disclosed",
        ((r"deep ?fakes?", r"face ?swap\w*", r"troca de rostos?"),),
    ),
)

#: Annex III areas accepted as ``domain=`` (and Portuguese names), mapped to their rule.
DOMAINS: dict[str, str] = {
    "biometrics": "annex3-1-biometrics",
    "critical_infrastructure": "annex3-2-critical-infrastructure",
    "education": "annex3-3-education",
    "employment": "annex3-4-employment",
    "essential_services": "annex3-5b-credit",
    "public_benefits": "annex3-5a-public-benefits",
    "credit": "annex3-5b-credit",
    "insurance": "annex3-5c-insurance",
    "emergency": "annex3-5d-emergency",
    "law_enforcement": "annex3-6-law-enforcement",
    "migration": "annex3-7-migration",
    "justice": "annex3-8-justice-democracy",
    "democratic_processes": "annex3-8-justice-democracy",
    "biometria": "annex3-1-biometrics",
    "infraestrutura_critica": "annex3-2-critical-infrastructure",
    "educacao": "annex3-3-education",
    "emprego": "annex3-4-employment",
    "servicos_essenciais": "annex3-5b-credit",
    "credito": "annex3-5b-credit",
    "seguros": "annex3-5c-insurance",
    "emergencia": "annex3-5d-emergency",
    "seguranca_publica": "annex3-6-law-enforcement",
    "migracao": "annex3-7-migration",
    "justica": "annex3-8-justice-democracy",
}

_COMPILED: dict[str, re.Pattern[str]] = {}


def _rx(pattern: str) -> re.Pattern[str]:
    found = _COMPILED.get(pattern)
    if found is None:
        found = _COMPILED[pattern] = re.compile(rf"\b(?:{pattern})\b")
    return found


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[\u2019']", "", text)  # "applicants' CVs", "user's": possessives join their word
    text = re.sub(r"[^a-z0-9\- ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _match(rule: RiskRule, text: str) -> list[str] | None:
    if any(_rx(p).search(text) for p in rule.unless):
        return None
    hits = []
    for group in rule.groups:
        for pattern in group:
            m = _rx(pattern).search(text)
            if m:
                hits.append(m.group(0))
                break
        else:
            return None
    return hits


def _by_id(rule_id: str) -> RiskRule:
    return next(r for r in RULES if r.id == rule_id)


def classify_ai_use_case(description: str, *, domain: str | None = None) -> AIRiskAssessment:
    """Classify a described AI use case under the EU AI Act (see the module docs).

    ``domain`` names an Annex III area the system is used in (``"employment"``,
    ``"credit"``, ``"education"``, ... or the Portuguese names in :data:`DOMAINS`), which
    makes it high-risk whatever the wording.

    >>> classify_ai_use_case("Chatbot answering customer questions about orders").level
    'limited'
    >>> classify_ai_use_case("Rank job applicants' CVs for interviews").level
    'high'
    """
    if not isinstance(description, str) or not description.strip():
        raise ComplianceError(
            "describe the AI use case in words (what the system does, for whom, where), e.g. "
            "'chatbot that answers customer questions'",
            field="description",
            found=repr(description),
        )
    text = _normalise(description)
    matched: list[tuple[RiskRule, list[str]]] = []
    for rule in RULES:
        hits = _match(rule, text)
        if hits is not None:
            matched.append((rule, hits))
    if domain is not None:
        key = _normalise(domain).replace(" ", "_").replace("-", "_")
        if key not in DOMAINS:
            import difflib

            close = difflib.get_close_matches(key, list(DOMAINS), n=1)
            raise ComplianceError(
                f"unknown Annex III domain {domain!r}"
                + (f" (did you mean {close[0]}?)" if close else "")
                + f"; known: {', '.join(sorted(DOMAINS))}",
                field="domain",
                found=domain,
                expected=sorted(DOMAINS),
            )
        rule = _by_id(DOMAINS[key])
        if all(r.id != rule.id for r, _ in matched):
            matched.append((rule, [f"domain={domain}"]))
    if not matched:
        return AIRiskAssessment(
            "minimal",
            ["Art. 4", "Art. 95"],
            ["no prohibited practice, Annex III area or Art. 50 transparency case recognised in the description"],
            description=description,
        )
    level = max((r.level for r, _ in matched), key=LEVELS.index)
    top = [(r, h) for r, h in matched if r.level == level]
    articles = list(dict.fromkeys(r.article for r, _ in top))
    if level == "high":
        articles += [a for a in HIGH_RISK_ARTICLES if a not in articles]
    also = [r.article for r, _ in matched if r.level != level and r.level != "minimal"]
    reasons = [f"{r.article}: {r.reason}" for r, _ in top] + [f"also {a}" for a in dict.fromkeys(also)]
    return AIRiskAssessment(
        level=level,
        articles=articles + [a for a in dict.fromkeys(also) if a not in articles],
        reasons=reasons,
        matched=[h for _, hits in matched for h in hits],
        rules=[r.id for r, _ in matched],
        description=description,
    )
