//! The query-string AST: what `select`, filters, `and`/`or`, `order`,
//! `limit`/`offset`, `on_conflict` and `columns` say, before any schema lookup.
//!
//! Names follow PostgREST's `ApiRequest.Types` so the planner reads like
//! PostgREST's `Plan`. Every list keeps the order of the query string.

/// A path of embedded relations, outermost first: `clients.projects.id=eq.1`
/// has the path `["clients", "projects"]`. Empty for the root.
pub type EmbedPath = Vec<String>;

/// `->` or `->>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonArrow {
    /// `->`: the result stays `json`/`jsonb`.
    Arrow,
    /// `->>`: the result is `text`.
    DoubleArrow,
}

/// The right-hand side of a JSON arrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonOperand {
    /// An object key (`->name`, `->"a.b"`), as text.
    Key(String),
    /// An array index (`->0`, `->-1`): ASCII digits with an optional leading
    /// `-`, never empty. It may not fit a machine integer; the SQL builder
    /// writes it as an integer literal (safe: digits only).
    Index(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOperation {
    pub arrow: JsonArrow,
    pub operand: JsonOperand,
}

/// A column reference with an optional JSON path: `data->a->>b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The column name (`*` for the star in `select`).
    pub name: String,
    pub json_path: Vec<JsonOperation>,
}

impl Field {
    pub fn plain(name: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            json_path: Vec::new(),
        }
    }
}

/// The aggregate functions of `select` (`amount.sum()`, `count()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Sum,
    Avg,
    Max,
    Min,
    Count,
}

impl AggregateFunction {
    /// The SQL function name.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateFunction::Sum => "sum",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Max => "max",
            AggregateFunction::Min => "min",
            AggregateFunction::Count => "count",
        }
    }

    /// The name as written in SQL (upper case, as PostgREST writes it).
    pub fn sql(self) -> &'static str {
        match self {
            AggregateFunction::Sum => "SUM",
            AggregateFunction::Avg => "AVG",
            AggregateFunction::Max => "MAX",
            AggregateFunction::Min => "MIN",
            AggregateFunction::Count => "COUNT",
        }
    }
}

/// `!inner` / `!left` on an embedded relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinType {
    Inner,
    Left,
}

/// One item of `select`. Relations carry their own item lists (the tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// A column, `*`, or `count()`.
    ///
    /// - `*`: `field.name == "*"`, everything else `None`.
    /// - `count()` (standalone): `field.name == "*"`, `aggregate == Some(Count)`,
    ///   with an optional alias and aggregate cast (`cnt:count()::text`).
    /// - `alias:col->json::cast.sum()::aggcast`: all parts optional but `col`.
    Field {
        field: Field,
        alias: Option<String>,
        /// Cast of the column (`::text` before the aggregate).
        cast: Option<String>,
        aggregate: Option<AggregateFunction>,
        /// Cast of the aggregate result (`::text` after `.sum()`).
        aggregate_cast: Option<String>,
    },
    /// `alias:name!hint!inner(children)`.
    Relation {
        name: String,
        alias: Option<String>,
        hint: Option<String>,
        join: Option<JoinType>,
        children: Vec<SelectItem>,
    },
    /// `...name!hint!inner(children)`.
    Spread {
        name: String,
        hint: Option<String>,
        join: Option<JoinType>,
        children: Vec<SelectItem>,
    },
}

impl SelectItem {
    /// The default select list: `*`.
    pub fn star() -> SelectItem {
        SelectItem::Field {
            field: Field::plain("*"),
            alias: None,
            cast: None,
            aggregate: None,
            aggregate_cast: None,
        }
    }
}

/// Operators that take one value and no quantifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimpleOperator {
    /// `neq`: `<>`
    NotEqual,
    /// `cs`: `@>`
    Contains,
    /// `cd`: `<@`
    Contained,
    /// `ov`: `&&`
    Overlap,
    /// `sl`: `<<`
    StrictlyLeft,
    /// `sr`: `>>`
    StrictlyRight,
    /// `nxr`: `&<`
    NotExtendsRight,
    /// `nxl`: `&>`
    NotExtendsLeft,
    /// `adj`: `-|-`
    Adjacent,
}

impl SimpleOperator {
    pub fn from_name(s: &str) -> Option<SimpleOperator> {
        Some(match s {
            "neq" => SimpleOperator::NotEqual,
            "cs" => SimpleOperator::Contains,
            "cd" => SimpleOperator::Contained,
            "ov" => SimpleOperator::Overlap,
            "sl" => SimpleOperator::StrictlyLeft,
            "sr" => SimpleOperator::StrictlyRight,
            "nxr" => SimpleOperator::NotExtendsRight,
            "nxl" => SimpleOperator::NotExtendsLeft,
            "adj" => SimpleOperator::Adjacent,
            _ => return None,
        })
    }

    /// The name used in the query string.
    pub fn name(self) -> &'static str {
        match self {
            SimpleOperator::NotEqual => "neq",
            SimpleOperator::Contains => "cs",
            SimpleOperator::Contained => "cd",
            SimpleOperator::Overlap => "ov",
            SimpleOperator::StrictlyLeft => "sl",
            SimpleOperator::StrictlyRight => "sr",
            SimpleOperator::NotExtendsRight => "nxr",
            SimpleOperator::NotExtendsLeft => "nxl",
            SimpleOperator::Adjacent => "adj",
        }
    }

    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            SimpleOperator::NotEqual => "<>",
            SimpleOperator::Contains => "@>",
            SimpleOperator::Contained => "<@",
            SimpleOperator::Overlap => "&&",
            SimpleOperator::StrictlyLeft => "<<",
            SimpleOperator::StrictlyRight => ">>",
            SimpleOperator::NotExtendsRight => "&<",
            SimpleOperator::NotExtendsLeft => "&>",
            SimpleOperator::Adjacent => "-|-",
        }
    }
}

/// Operators that accept the `(any)` / `(all)` quantifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantOperator {
    /// `eq`: `=`
    Equal,
    /// `gte`: `>=`
    GreaterThanEqual,
    /// `gt`: `>`
    GreaterThan,
    /// `lte`: `<=`
    LessThanEqual,
    /// `lt`: `<`
    LessThan,
    /// `like`: `like` (`*` already replaced by `%` in the value)
    Like,
    /// `ilike`: `ilike` (`*` already replaced by `%` in the value)
    ILike,
    /// `match`: `~`
    Match,
    /// `imatch`: `~*`
    IMatch,
}

impl QuantOperator {
    pub fn from_name(s: &str) -> Option<QuantOperator> {
        Some(match s {
            "eq" => QuantOperator::Equal,
            "gte" => QuantOperator::GreaterThanEqual,
            "gt" => QuantOperator::GreaterThan,
            "lte" => QuantOperator::LessThanEqual,
            "lt" => QuantOperator::LessThan,
            "like" => QuantOperator::Like,
            "ilike" => QuantOperator::ILike,
            "match" => QuantOperator::Match,
            "imatch" => QuantOperator::IMatch,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            QuantOperator::Equal => "eq",
            QuantOperator::GreaterThanEqual => "gte",
            QuantOperator::GreaterThan => "gt",
            QuantOperator::LessThanEqual => "lte",
            QuantOperator::LessThan => "lt",
            QuantOperator::Like => "like",
            QuantOperator::ILike => "ilike",
            QuantOperator::Match => "match",
            QuantOperator::IMatch => "imatch",
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            QuantOperator::Equal => "=",
            QuantOperator::GreaterThanEqual => ">=",
            QuantOperator::GreaterThan => ">",
            QuantOperator::LessThanEqual => "<=",
            QuantOperator::LessThan => "<",
            QuantOperator::Like => "like",
            QuantOperator::ILike => "ilike",
            QuantOperator::Match => "~",
            QuantOperator::IMatch => "~*",
        }
    }
}

/// `(any)` / `(all)`: the value is a PostgreSQL array literal (`{a,b}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpQuantifier {
    Any,
    All,
}

/// Full-text search operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsOperator {
    /// `fts`: `to_tsquery`
    Fts,
    /// `plfts`: `plainto_tsquery`
    Plain,
    /// `phfts`: `phraseto_tsquery`
    Phrase,
    /// `wfts`: `websearch_to_tsquery`
    Websearch,
}

impl FtsOperator {
    pub fn from_name(s: &str) -> Option<FtsOperator> {
        Some(match s {
            "fts" => FtsOperator::Fts,
            "plfts" => FtsOperator::Plain,
            "phfts" => FtsOperator::Phrase,
            "wfts" => FtsOperator::Websearch,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FtsOperator::Fts => "fts",
            FtsOperator::Plain => "plfts",
            FtsOperator::Phrase => "phfts",
            FtsOperator::Websearch => "wfts",
        }
    }

    /// The tsquery constructor function.
    pub fn sql_function(self) -> &'static str {
        match self {
            FtsOperator::Fts => "to_tsquery",
            FtsOperator::Plain => "plainto_tsquery",
            FtsOperator::Phrase => "phraseto_tsquery",
            FtsOperator::Websearch => "websearch_to_tsquery",
        }
    }
}

/// The right side of `is.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    Null,
    /// `is.not_null` (PostgREST 13+).
    NotNull,
    True,
    False,
    Unknown,
}

/// What a filter does with its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `neq.v`, `cs.v`, … The value is verbatim.
    Simple { op: SimpleOperator, value: String },
    /// `eq.v`, `like(any).{a*,b*}`, … The value is verbatim, except that
    /// for `like`/`ilike` every `*` is already replaced by `%`.
    Quant {
        op: QuantOperator,
        quantifier: Option<OpQuantifier>,
        value: String,
    },
    /// `in.(a,"b,c")`: the list elements, unquoted and unescaped. `in.()`
    /// gives one empty element, as in PostgREST.
    In(Vec<String>),
    /// `is.null`, `is.not_null`, `is.true`, …
    Is(IsValue),
    /// `isdistinct.v`: `IS DISTINCT FROM`.
    IsDistinctFrom(String),
    /// `fts(english).v`
    Fts {
        op: FtsOperator,
        language: Option<String>,
        value: String,
    },
}

/// `[not.]operation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpExpr {
    pub negated: bool,
    pub operation: Operation,
}

/// A condition on one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: Field,
    pub expr: OpExpr,
}

/// `and` / `or`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOperator {
    And,
    Or,
}

/// The tree of `and=(…)` / `or=(…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogicTree {
    /// `[not.]and(…)` / `[not.]or(…)`; never empty.
    Expr {
        negated: bool,
        op: LogicOperator,
        children: Vec<LogicTree>,
    },
    /// A leaf filter, `col.op.value`.
    Stmnt(Filter),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderNulls {
    NullsFirst,
    NullsLast,
}

/// One term of `order=`: `col->json.desc.nullslast`, or a related order
/// `relation(col).asc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// `Some("clients")` for `clients(name).desc` (order by a to-one embed's column).
    pub relation: Option<String>,
    pub field: Field,
    pub direction: Option<OrderDirection>,
    pub nulls: Option<OrderNulls>,
}

/// A filter with the embed path it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFilter {
    pub path: EmbedPath,
    pub filter: Filter,
}

/// An `and`/`or` tree with the embed path it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathLogic {
    pub path: EmbedPath,
    pub tree: LogicTree,
}

/// One `order=` parameter with the embed path it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathOrder {
    pub path: EmbedPath,
    pub terms: Vec<OrderTerm>,
}

/// `limit` / `offset` of one level (root: empty path).
///
/// Values are kept as given (negative numbers too): PostgREST rejects a
/// negative limit later (PGRST103), not in the grammar. A value that is not
/// an integer is ignored, as in PostgREST; one beyond `i64` saturates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRange {
    pub path: EmbedPath,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}
