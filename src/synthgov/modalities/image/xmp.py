"""XMP packets holding ``TC260:AIGC`` (image guide TC260-PG-20259A; spec §4.8).

Writing keeps every other property of an existing packet and replaces only ``TC260:AIGC``.
Reading matches the namespace by URI and accepts the element and attribute forms. Packets with a
DTD (entity expansion, external entities) are refused before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from synthgov.errors import CorruptMedia, HostileInput

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
X_NS = "adobe:ns:meta/"
AIGC = f"{{{TC260_NS}}}AIGC"
MAX_PACKET = 4 * 1024 * 1024  # XMP is metadata; a larger packet is refused as hostile
_HEADER = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_TRAILER = '\n<?xpacket end="w"?>'
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_PARSER_OPTS = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}


def new_packet(value: str) -> bytes:
    """A fresh packet holding only ``TC260:AIGC``: the fast path when a file has no XMP."""
    return (
        _HEADER + '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{RDF_NS}"><rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}">'
        f"<TC260:AIGC>{escape(value)}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>" + _TRAILER
    ).encode()


def _decode(packet: bytes) -> str:
    if len(packet) > MAX_PACKET:
        raise HostileInput(f"XMP packet of {len(packet)} bytes exceeds the {MAX_PACKET}-byte limit")
    if packet[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = packet.decode("utf-16", errors="replace")
    elif packet[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        text = packet.decode("utf-32", errors="replace")
    else:
        text = packet.decode("utf-8", errors="replace")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise HostileInput("XMP packet declares a DTD or entities (possible entity-expansion bomb); refused")
    return _XML_DECL.sub("", text.lstrip("\ufeff"), count=1)


def parse_packet(packet: bytes, damage: list[str] | None = None) -> etree._Element:
    """The packet's root element. Strict (labeling keeps the rest of a packet, so it must be sound)
    unless ``damage`` is given: then a packet that is not well-formed (an unbound prefix, an unclosed
    element) is read by libxml2's recovering parser, as a generic reader would, and why is noted."""
    text = _decode(packet)
    parser = etree.XMLParser(**_PARSER_OPTS)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        if damage is None:
            raise CorruptMedia(f"XMP packet is not well-formed XML: {exc}") from exc
        damage.append(f"XMP packet is not well-formed XML ({exc}); read leniently")
        try:
            root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(**_PARSER_OPTS, recover=True))
        except etree.XMLSyntaxError as again:  # nothing recoverable (an empty document)
            raise CorruptMedia(f"XMP packet is not XML: {again}") from again
    if root is None:
        raise CorruptMedia("XMP packet is empty")
    return root


@dataclass(frozen=True)
class XmpValue:
    form: str  # "element" | "attribute"
    value: str
    problem: str | None = None  # where the property is not TC260:AIGC by URI (lenient reading)


def _split(tag: str) -> tuple[str | None, str]:
    """(namespace, local name) of a tag or attribute name: ``{uri}local``, or, where the recovering
    parser met a prefix bound to nothing, ``prefix:local`` with no namespace (lxml's QName refuses
    those)."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag.rpartition(":")[2]


def looks_like_label(value: str) -> bool:
    return '"Label"' in value or '"ContentProducer"' in value


def _misplaced(form: str, name: str, value: str, notes: list[str]) -> XmpValue | None:
    """An AIGC property outside the TC260 namespace: a label with the place named when its value
    looks like one (GIMT's wrong URI, a prefix bound to nothing, no namespace at all), else a note."""
    namespace, _ = _split(name)
    if namespace:
        where = f"namespace {namespace!r}"
    elif ":" in name:
        where = f"the prefix {name.split(':', 1)[0]!r}, which is bound to no namespace"
    else:
        where = "no namespace"
    if not looks_like_label(value):
        notes.append(f"an AIGC {form} in {where}, not the TC260 URI")
        return None
    return XmpValue(form, value, f"AIGC {form} in {where}, not the TC260 URI {TC260_NS}")


def find_aigc(packet: bytes, damage: list[str] | None = None) -> tuple[list[XmpValue], list[str]]:
    """Every ``TC260:AIGC`` value in a packet (element and attribute forms, matched by URI), every
    AIGC property elsewhere that holds a label (with its problem), and notes about near misses.
    With ``damage``, a packet that is not well-formed is read leniently (see :func:`parse_packet`)."""
    root = parse_packet(packet, damage)
    found: list[XmpValue] = []
    notes: list[str] = []
    for elem in root.iter():
        if not isinstance(elem.tag, str):
            continue
        if elem.tag == AIGC:
            found.append(XmpValue("element", "".join(elem.itertext())))
        elif _split(elem.tag)[1].upper() == "AIGC" and (value := _misplaced("element", elem.tag,
                                                                            "".join(elem.itertext()), notes)):
            found.append(value)
        for name, value in elem.attrib.items():
            if name == AIGC:
                found.append(XmpValue("attribute", value))
            elif _split(name)[1].upper() == "AIGC" and (misplaced := _misplaced("attribute", name, value, notes)):
                found.append(misplaced)
            elif damage is not None and _stray_label(value) and not _inside_aigc(elem):
                found.append(XmpValue("attribute", value, f"label in the XMP attribute {_qname(elem, name)}, "
                                                          "not TC260:AIGC"))
        if (damage is not None and len(elem) == 0 and _stray_label(elem.text or "")
                and not _inside_aigc(elem)):
            found.append(XmpValue("element", elem.text or "", f"label in the XMP property {_property(elem)}, "
                                                             "not TC260:AIGC"))
    return found, notes


def _stray_label(value: str) -> bool:
    """A label-looking JSON value in some other XMP property (a vendor's ``dc:description``)."""
    text = value.lstrip()
    return text.startswith(("{", "AIGC{")) and looks_like_label(text)


def _inside_aigc(elem: etree._Element) -> bool:
    """Whether an element is an AIGC property or inside one (an ``rdf:Bag``/``rdf:Alt`` around the
    value): its text is read with the property already."""
    node: etree._Element | None = elem
    while node is not None:
        if isinstance(node.tag, str) and _split(node.tag)[1].upper() == "AIGC":
            return True
        node = node.getparent()
    return False


def _qname(elem: etree._Element, name: str) -> str:
    namespace, local = _split(name)
    prefix = next((p for p, uri in elem.nsmap.items() if uri == namespace and p), None) if namespace else None
    return f"{prefix}:{local}" if prefix else local


def _property(elem: etree._Element) -> str:
    """The property an element's value belongs to: itself, or for an ``rdf:li`` of an ``rdf:Alt``,
    ``rdf:Seq`` or ``rdf:Bag``, the property around it (``dc:description``)."""
    while elem.getparent() is not None and _split(elem.tag)[0] == RDF_NS:
        elem = elem.getparent()
    return _qname(elem, elem.tag)


def update_packet(packet: bytes | None, value: str) -> bytes:
    """Set ``TC260:AIGC`` to ``value`` in ``packet`` (or a new packet), keeping everything else."""
    if packet is None:
        return new_packet(value)
    root = parse_packet(packet)
    if root.tag == f"{{{X_NS}}}xmpmeta":
        rdf = root.find(f"{{{RDF_NS}}}RDF")
        if rdf is None:
            rdf = etree.SubElement(root, f"{{{RDF_NS}}}RDF", nsmap={"rdf": RDF_NS})
    elif root.tag == f"{{{RDF_NS}}}RDF":
        rdf = root
    else:
        raise CorruptMedia(f"XMP packet root is {root.tag!r}, not x:xmpmeta or rdf:RDF")
    # update, never append (GB 45438 6.1 c): the label's old value goes, also where it was misplaced
    # (another namespace's AIGC property holding a label); AIGC properties holding anything else stay
    for elem in list(root.iter()):
        if not isinstance(elem.tag, str):
            continue
        if elem.tag == AIGC or (_split(elem.tag)[1].upper() == "AIGC" and looks_like_label("".join(elem.itertext()))):
            elem.getparent().remove(elem)
            continue
        for name in [n for n, v in elem.attrib.items() if n == AIGC or (_split(n)[1].upper() == "AIGC"
                                                                         and looks_like_label(v))]:
            del elem.attrib[name]
    descriptions = rdf.findall(f"{{{RDF_NS}}}Description")
    target = next((d for d in descriptions if TC260_NS in d.nsmap.values()), None)
    if target is None:
        target = etree.SubElement(rdf, f"{{{RDF_NS}}}Description", nsmap={"TC260": TC260_NS})
        target.set(f"{{{RDF_NS}}}about", "")
    prop = etree.SubElement(target, AIGC)
    prop.text = value
    body = etree.tostring(root, encoding="unicode")
    return (_HEADER + body + _TRAILER).encode("utf-8")
