"""The satisfaction survey (SKM, PermenPAN-RB 14/2017): asking after every visit and the IKM
(docs/survey.md). `ikm.py` is the arithmetic, `service.py` the rules of asking and answering,
`results.py` the IKM per service, agency, counter, officer or month."""
