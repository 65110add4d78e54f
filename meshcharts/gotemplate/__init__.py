"""A pure-Python implementation of Go's ``text/template`` with sprig's functions.

The pipeline is lexer (:mod:`.lexer`) -> parser (:mod:`.parser`, nodes in :mod:`.nodes`)
-> executor (:mod:`.executor`), over Go-typed values (:mod:`.gotypes`). Functions carry
their Go signatures (:mod:`.funcs`): the predefined ones (:mod:`.builtins`) and sprig's
(:mod:`.sprig_text`, :mod:`.sprig_data`, :mod:`.semver`). :mod:`.gofmt` is Go's ``fmt``;
:mod:`.goyaml` and :mod:`.yamlemit` are the JSON/YAML encoders and decoders Helm uses,
and :mod:`.helm` holds Helm's objects and functions; :mod:`meshcharts.checks.render` renders
charts with them.
"""

from meshcharts.gotemplate.executor import ExecError, TemplateSet
from meshcharts.gotemplate.funcs import FuncMap, GoFunc
from meshcharts.gotemplate.gotypes import FuncError
from meshcharts.gotemplate.lexer import ParseError

__all__ = ["ExecError", "FuncError", "FuncMap", "GoFunc", "ParseError", "TemplateSet"]
