"""Every stored key a person may see, by vocabulary name: one place the faces and exports ask
for a label, so no page shows 'locked' or 'scheduled' where it means 门锁着 or 计划核查."""

from stations.core import checkins, vocab

VOCABULARIES: dict[str, vocab.Vocabulary] = {
    v.name: v
    for v in (
        vocab.FACILITIES,
        vocab.HOST_TYPES,
        vocab.ENTRY_METHODS,
        vocab.STATUSES,
        vocab.DATUMS,
        vocab.REPORT_STATES,
        vocab.VISIT_KINDS,
        vocab.AUDIT_RESULTS,
        vocab.CHANGE_ACTIONS,
        vocab.STAFF_ROLES,
        checkins.KINDS,
    )
}
# The names pages use: kind -> 'report_kind' reads better in a template than 'kind'
VOCABULARIES["report_kind"] = checkins.KINDS

# Station fields whose stored values are keys of a vocabulary: pages show their labels.
FIELD_VOCABULARIES = {
    "status": "status",
    "facilities": "facilities",
    "host_type": "host_type",
    "entry_method": "entry_method",
    "crs": "crs",
    "coord_source": "crs",
}


def label(vocabulary: str, key: str, lang: str = "zh") -> str:
    return VOCABULARIES[vocabulary].label(key, lang)
