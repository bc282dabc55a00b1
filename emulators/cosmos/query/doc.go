// Package query parses and evaluates the subset of the Azure Cosmos DB for
// NoSQL query language that the local emulator supports.
//
// Supported grammar (keywords are case-insensitive, identifiers are not):
//
//	query      = select [from] [WHERE expr] [ORDER BY path [ASC|DESC]] [OFFSET n LIMIT n]
//	           | from [WHERE expr]                      // filter predicate, e.g. for patch
//	select     = SELECT [TOP n] ( "*" | VALUE item | item {"," item} )
//	item       = expr [[AS] name] | COUNT "(" expr ")" [[AS] name]
//	from       = FROM name [[AS] alias]                 // alias defaults to name
//	n          = number | @param                        // a non-negative integer
//	expr       = expr OR expr | expr AND expr | NOT expr
//	           | operand (= | != | <> | < | <= | > | >=) operand
//	           | operand [NOT] IN "(" expr {"," expr} ")"
//	           | operand
//	operand    = literal | @param | path | call | "(" expr ")"
//	           | "[" [expr {"," expr}] "]" | "{" [name ":" expr {"," name ":" expr}] "}"
//	path       = alias { "." name | "[" (string | number | @param) "]" }
//	call       = IS_DEFINED "(" expr ")"
//	           | ARRAY_CONTAINS "(" expr "," expr ["," expr] ")"
//	           | STARTSWITH "(" expr "," expr ["," expr] ")"
//	literal    = number | 'string' | "string" | true | false | null | undefined
//
// Values follow Cosmos DB semantics: reading a missing property yields
// undefined; comparing undefined, or values of different types, yields
// undefined; NOT, AND and OR use three-valued logic; and WHERE keeps a
// document only when its condition is exactly true. A projected property that
// is undefined is left out of the result object, and a SELECT VALUE that is
// undefined produces no result at all. ORDER BY sorts null < false < true <
// numbers < strings < arrays < objects (arrays and objects keep storage order
// among themselves) and leaves out documents whose sort value is undefined.
//
// Anything else — JOIN, GROUP BY, DISTINCT, subqueries, user-defined
// functions, arithmetic, other system functions — makes Parse fail with a
// *ParseError naming the construct and its byte offset, so the emulator never
// answers a query it does not understand.
package query
