"""The fixed texts customers see, in each language the chat serves.

English is the source; the others were written for Northwind (informal address where the
shop's German FAQ uses it). ``{contact}`` is filled in with shop.contact.
"""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "decline": {
        "en": "I'm sorry, I couldn't find an answer to that in our help center. "
        "Please contact {contact}, and a person will help you.",
        "de": "Dazu habe ich in unserem Hilfe-Center leider keine Antwort gefunden. "
        "Bitte wende dich an {contact}, dort hilft dir eine Person weiter.",
        "fr": "Désolé, je n'ai pas trouvé de réponse à cette question dans notre centre "
        "d'aide. Contactez {contact} : une personne vous aidera.",
        "es": "Lo siento, no he encontrado una respuesta a eso en nuestro centro de ayuda. "
        "Escribe a {contact} y una persona te ayudará.",
        "it": "Mi dispiace, non ho trovato una risposta nel nostro centro assistenza. "
        "Contatta {contact} e una persona ti aiuterà.",
        "nl": "Sorry, daar heb ik in ons helpcentrum geen antwoord op gevonden. "
        "Neem contact op met {contact}, dan helpt een medewerker je verder.",
    },
    # Small talk gets a short reply of its own (chat/dialogue.py), never an FAQ answer.
    "greeting": {
        "en": "Hello! Ask me about orders, delivery, returns or payment, and I'll find "
        "the answer in our help center.",
        "de": "Hallo! Frag mich zu Bestellungen, Lieferung, Rücksendungen oder Zahlung, "
        "dann suche ich die Antwort in unserem Hilfe-Center.",
        "fr": "Bonjour ! Posez-moi vos questions sur les commandes, la livraison, les "
        "retours ou le paiement : je cherche la réponse dans notre centre d'aide.",
        "es": "¡Hola! Pregúntame por pedidos, envíos, devoluciones o pagos y buscaré la "
        "respuesta en nuestro centro de ayuda.",
        "it": "Ciao! Chiedimi di ordini, spedizioni, resi o pagamenti e cercherò la "
        "risposta nel nostro centro assistenza.",
        "nl": "Hallo! Vraag me naar bestellingen, levering, retourneren of betalen, dan "
        "zoek ik het antwoord op in ons helpcentrum.",
    },
    "thanks": {
        "en": "You're welcome! Is there anything else I can help you with?",
        "de": "Gern geschehen! Kann ich dir sonst noch helfen?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "es": "¡De nada! ¿Puedo ayudarte en algo más?",
        "it": "Prego! Posso aiutarti in qualcos'altro?",
        "nl": "Graag gedaan! Kan ik je nog ergens anders mee helpen?",
    },
    "handoff_offer": {
        "en": "Of course. Leave your email address and your question with the button "
        "below, and a person from our team will get back to you. You can also write to "
        "{contact}.",
        "de": "Natürlich. Hinterlasse über den Knopf unten deine E-Mail-Adresse und deine "
        "Frage, dann meldet sich eine Person aus unserem Team. Du kannst auch an "
        "{contact} schreiben.",
        "fr": "Bien sûr. Laissez votre adresse e-mail et votre question avec le bouton "
        "ci-dessous : une personne de notre équipe vous répondra. Vous pouvez aussi "
        "écrire à {contact}.",
        "es": "Por supuesto. Deja tu correo electrónico y tu pregunta con el botón de "
        "abajo y una persona de nuestro equipo te responderá. También puedes escribir a "
        "{contact}.",
        "it": "Certo. Lascia il tuo indirizzo e-mail e la tua domanda con il pulsante qui "
        "sotto e una persona del nostro team ti risponderà. Puoi anche scrivere a "
        "{contact}.",
        "nl": "Natuurlijk. Laat met de knop hieronder je e-mailadres en je vraag achter, "
        "dan neemt een medewerker contact met je op. Je kunt ook mailen naar {contact}.",
    },
    # "Where is my order?" without its number: the order flow starts by asking for it.
    "ask_order_number": {
        "en": "I can check that for you. What is your order number? You'll find it in "
        "your order confirmation email. You can also use the order lookup button below.",
        "de": "Das sehe ich gern für dich nach. Wie lautet deine Bestellnummer? Du "
        "findest sie in deiner Bestellbestätigung. Du kannst auch den Knopf zur "
        "Bestellabfrage unten nutzen.",
        "fr": "Je peux vérifier cela. Quel est votre numéro de commande ? Il figure dans "
        "l'e-mail de confirmation de commande. Vous pouvez aussi utiliser le bouton de "
        "suivi ci-dessous.",
        "es": "Puedo comprobarlo. ¿Cuál es tu número de pedido? Lo encontrarás en el "
        "correo de confirmación del pedido. También puedes usar el botón de consulta de "
        "abajo.",
        "it": "Posso controllare. Qual è il tuo numero d'ordine? Lo trovi nell'e-mail di "
        "conferma dell'ordine. Puoi anche usare il pulsante di ricerca qui sotto.",
        "nl": "Dat zoek ik graag voor je op. Wat is je bestelnummer? Je vindt het in de "
        "bevestigingsmail van je bestelling. Je kunt ook de knop hieronder gebruiken.",
    },
    # Before an entry that has no translation yet: the English text follows.
    "english_only": {
        "de": "Diese Antwort gibt es bisher nur auf Englisch:",
        "fr": "Cette réponse n'existe pour l'instant qu'en anglais :",
        "es": "Por ahora esta respuesta solo está disponible en inglés:",
        "it": "Per ora questa risposta è disponibile solo in inglese:",
        "nl": "Dit antwoord is voorlopig alleen in het Engels beschikbaar:",
    },
    "ask_email": {
        "de": "Das kann ich nachsehen. Zum Schutz deiner Daten nenne mir bitte auch die "
        "E-Mail-Adresse, mit der bestellt wurde.",
        "fr": "Je peux vérifier. Pour protéger vos données, indiquez-moi aussi l'adresse "
        "e-mail utilisée pour la commande.",
        "es": "Puedo consultarlo. Para proteger tus datos, dime también el correo "
        "electrónico con el que se hizo el pedido.",
        "it": "Posso controllare. Per proteggere i tuoi dati, indicami anche l'indirizzo "
        "e-mail usato per l'ordine.",
        "nl": "Dat kan ik opzoeken. Geef ter bescherming van je gegevens ook het e-mailadres "
        "waarmee de bestelling is geplaatst.",
    },
    "ask_contact": {
        "de": "Das kann ich nachsehen. Zum Schutz deiner Daten nenne mir bitte auch die "
        "E-Mail-Adresse (oder die Postleitzahl), mit der bestellt wurde.",
        "fr": "Je peux vérifier. Pour protéger vos données, indiquez-moi aussi l'adresse "
        "e-mail (ou le code postal) utilisée pour la commande.",
        "es": "Puedo consultarlo. Para proteger tus datos, dime también el correo "
        "electrónico (o el código postal) con el que se hizo el pedido.",
        "it": "Posso controllare. Per proteggere i tuoi dati, indicami anche l'indirizzo "
        "e-mail (o il CAP) usato per l'ordine.",
        "nl": "Dat kan ik opzoeken. Geef ter bescherming van je gegevens ook het e-mailadres "
        "(of de postcode) waarmee de bestelling is geplaatst.",
    },
    "not_verified": {
        "de": "Ich konnte diese Angaben nicht bestätigen. Bitte prüfe die Bestellnummer und "
        "die E-Mail-Adresse oder Postleitzahl deiner Bestellung.",
        "fr": "Je n'ai pas pu vérifier ces informations. Vérifiez le numéro de commande et "
        "l'adresse e-mail ou le code postal de la commande.",
        "es": "No he podido verificar estos datos. Revisa el número de pedido y el correo "
        "electrónico o el código postal del pedido.",
        "it": "Non sono riuscito a verificare questi dati. Controlla il numero d'ordine e "
        "l'indirizzo e-mail o il CAP dell'ordine.",
        "nl": "Ik kon deze gegevens niet controleren. Kijk het bestelnummer en het "
        "e-mailadres of de postcode van de bestelling na.",
    },
    "locked": {
        "de": "Zu deiner Sicherheit ist die Bestellabfrage in diesem Gespräch nach mehreren "
        "erfolglosen Versuchen pausiert. Bitte versuche es später erneut oder wende dich "
        "an unser Team.",
        "fr": "Pour votre sécurité, la recherche de commande est suspendue dans cette "
        "conversation après plusieurs essais infructueux. Réessayez plus tard ou "
        "contactez notre équipe.",
        "es": "Por tu seguridad, la consulta de pedidos está en pausa en esta conversación "
        "tras varios intentos fallidos. Inténtalo más tarde o contacta con nuestro equipo.",
        "it": "Per la tua sicurezza, la ricerca degli ordini è sospesa in questa "
        "conversazione dopo diversi tentativi non riusciti. Riprova più tardi o contatta "
        "il nostro team.",
        "nl": "Voor je veiligheid is het opzoeken van bestellingen in dit gesprek gepauzeerd "
        "na meerdere mislukte pogingen. Probeer het later opnieuw of neem contact op met "
        "ons team.",
    },
    "order_locked": {
        "de": "Zu deiner Sicherheit sind Abfragen dieser Bestellung nach mehreren "
        "erfolglosen Versuchen eine Weile pausiert. Bitte wende dich an {contact}; dort "
        "hilft dir eine Person weiter.",
        "fr": "Pour votre sécurité, les recherches sur cette commande sont suspendues un "
        "moment après plusieurs essais infructueux. Contactez {contact} : une personne "
        "vous aidera.",
        "es": "Por tu seguridad, las consultas de este pedido están en pausa un tiempo tras "
        "varios intentos fallidos. Escribe a {contact} y una persona te ayudará.",
        "it": "Per la tua sicurezza, le ricerche di questo ordine sono sospese per un po' "
        "dopo diversi tentativi non riusciti. Contatta {contact} e una persona ti aiuterà.",
        "nl": "Voor je veiligheid is het opzoeken van deze bestelling een tijd gepauzeerd na "
        "meerdere mislukte pogingen. Neem contact op met {contact}, dan helpt een "
        "medewerker je verder.",
    },
    "rate_limited": {
        "de": "Zu viele Abfragen. Bitte warte ein paar Minuten und versuche es dann erneut.",
        "fr": "Trop de tentatives. Attendez quelques minutes, puis réessayez.",
        "es": "Demasiados intentos. Espera unos minutos y vuelve a intentarlo.",
        "it": "Troppi tentativi. Attendi qualche minuto e riprova.",
        "nl": "Te veel pogingen. Wacht een paar minuten en probeer het dan opnieuw.",
    },
    "unavailable": {
        "de": "Die Bestellabfrage ist gerade nicht erreichbar. Bitte versuche es in ein "
        "paar Minuten erneut; Fragen zu unseren Regelungen beantworte ich weiterhin.",
        "fr": "La recherche de commande est momentanément indisponible. Réessayez dans "
        "quelques minutes ; je peux toujours répondre aux questions sur nos conditions.",
        "es": "La consulta de pedidos no está disponible en este momento. Inténtalo de nuevo "
        "en unos minutos; sigo respondiendo preguntas sobre nuestras condiciones.",
        "it": "La ricerca degli ordini non è al momento disponibile. Riprova tra qualche "
        "minuto; posso comunque rispondere alle domande sulle nostre condizioni.",
        "nl": "Bestellingen opzoeken lukt nu even niet. Probeer het over een paar minuten "
        "opnieuw; vragen over onze voorwaarden beantwoord ik wel.",
    },
}


def phrase(key: str, lang: str, **values: str) -> str | None:
    """The text in that language, or None where there is none (English order texts
    live with the order flow)."""
    text = PHRASES.get(key, {}).get(lang)
    return text.format(**values) if text is not None else None
