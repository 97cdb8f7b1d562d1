"""Stopword lists per language (ISO 639-1), shipped with the code: nothing is downloaded.

Short function words that say nothing about what a mention is about. `guess(tokens)` picks the
language whose list the tokens hit most, for mentions that carry no `lang`.
"""
from __future__ import annotations

_LISTS = {
    "en": """a about above after again against all almost also although always am among an and
        another any anyone anything are aren't around as at be became because been before being
        below between both but by can can't cannot could couldn't did didn't do does doesn't
        doing don't done down during each either else enough etc even ever every few for from
        further get gets getting got had hadn't has hasn't have haven't having he he'd he'll he's
        her here here's hers herself him himself his how how's however i i'd i'll i'm i've if in
        into is isn't it it's its itself just least less let's like lot made make many may me
        might more most much must mustn't my myself neither never no nor not now of off often on
        once one only or other others otherwise ought our ours ourselves out over own per quite
        rather really same say says said see seen shall shan't she she'd she'll she's should
        shouldn't since so some something still such than that that's the their theirs them
        themselves then there there's these they they'd they'll they're they've thing things
        this those though through thus to too toward towards under until up upon us very via was
        wasn't we we'd we'll we're we've well were weren't what what's whatever when when's
        where where's whether which while who who's whom whose why why's will with within without
        won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
        im ive dont doesnt didnt cant wont isnt arent wasnt youre thats theres lets gonna wanna
        yes yeah ok okay oh amp rt via u ur go goes going gone went""",
    "de": """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
        anderes auch auf aus bei bin bis bist da damit dann das dass dasselbe dazu dein deine
        deinem deinen deiner dem den denn der des dessen deshalb die dies diese diesem diesen
        dieser dieses doch dort du durch ein eine einem einen einer eines einig einige einigem
        einigen einiger einiges einmal er es etwas euch euer eure für gegen gewesen hab habe haben
        hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in
        indem ins ist jede jedem jeden jeder jedes jetzt kann kein keine keinem keinen keiner
        können könnte machen man manche mein meine meinem meinen meiner mit muss musste nach nicht
        nichts noch nun nur ob oder ohne schon sehr sein seine seinem seinen seiner seit sich sie
        sind so solche soll sollte sondern sonst über um und uns unser unsere unter viel vom von
        vor war waren warst was weg weil weiter welche welchem welchen welcher welches wenn wer
        werde werden wie wieder will wir wird wirst wo wollen wollte würde würden zu zum zur zwar
        zwischen""",
    "fr": """à a ai aie ainsi alors au aucun aussi autre aux avec avoir avait avez avons c ça car
        ce ceci cela celle celles celui ces cet cette chez comme comment d dans de des donc dont du
        elle elles en encore est et été êtes étaient était être eu eux fait faire il ils j je
        jusqu l la le les leur leurs lui m ma mais me même mes moi mon n ne ni nos notre nous on
        ont ou où par parce pas peu peut plus pour pourquoi qu quand que quel quelle quelles
        quels qui s sa sans se sera ses si sien son sont sous sur t ta te tes toi ton tous tout
        toute toutes très tu un une vers vos votre vous y""",
    "es": """a al algo algunas algunos ante antes como con contra cual cuando de del desde donde
        durante e el él ella ellas ellos en entre era eran es esa esas ese eso esos esta está
        están estas este esto estos fue fueron ha había han hasta hay la las le les lo los más
        me mi mis mucho muy nada ni no nos nosotros o os otra otras otro otros para pero poco por
        porque que qué quien se sea ser si sí sin sobre son su sus también tan te tener tiene
        tienen todo todos tu tú tus un una uno unos y ya yo""",
    "it": """a ad al alla alle allo agli ai anche avere aveva c che chi ci come con contro cui da
        dal dalla dalle dei del della delle dello di dove e è ed era erano essere gli ha hanno i
        il in io la le lei lo loro lui ma mi mia mio molto ne nei nel nella nelle no noi non o
        per perché più poi quando quella quelle quello questa queste questo se si sia siamo sono
        su sua sue sui sul sulla suo tra tu tutti tutto un una uno vi voi""",
    "pt": """a à ao aos as às até com como da das de dela dele do dos e é ela elas ele eles em
        entre era essa esse esta está estão este eu foi foram há isso isto já lhe mais mas me
        mesmo meu minha muito na nas não nem no nos nós o os ou para pela pelo por porque quando
        que quem se sem ser seu sua são também te tem têm tu um uma você vocês""",
    "nl": """aan al alles als dan dat de deze die dit doch doen door dus een en er ge geen geweest
        had heb hebben heeft hem het hier hij hoe hun ik in is ja je kan kon later maar me meer
        men met mij mijn moet na naar niet niets nog nu of om omdat ons ook op over reeds te tegen
        toch toen tot u uit uw van veel voor want waren was wat we wel werd wezen wie wij wil
        worden zal ze zei zelf zich zij zijn zo zonder zou""",
}

STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in _LISTS.items()}
DEFAULT = "en"
ANY = frozenset().union(*STOPWORDS.values())


def for_language(lang: str | None) -> frozenset[str] | None:
    """The list of `lang` (an ISO 639-1 code, case-insensitive; "en-GB" reads as "en"), or None."""
    if not lang:
        return None
    return STOPWORDS.get(lang.split("-")[0].lower())


def guess(tokens: set[str]) -> frozenset[str]:
    """The list the tokens hit most (English on a tie or no hit): a mention without `lang`."""
    best, hits = STOPWORDS[DEFAULT], 0
    tokens = ANY.intersection(tokens)     # the few that are a stopword of some list
    if not tokens:
        return best
    for words in STOPWORDS.values():
        n = len(words.intersection(tokens))
        if n > hits:
            best, hits = words, n
    return best
