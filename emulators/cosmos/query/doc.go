// Package query parses and evaluates the subset of the Azure Cosmos DB for
// NoSQL query language that the local emulator supports.
//
// Supported grammar. Keywords and function names are case-insensitive;
// identifiers and parameter names are not; "--" starts a line comment.
//
//	query      = select [from] [WHERE expr] [ORDER BY path [ASC|DESC]] [OFFSET n LIMIT n]
//	           | from [WHERE expr]                   // a filter predicate, as in patch
//	select     = SELECT [TOP n] ( "*" | VALUE item | item {"," item} )
//	item       = expr [[AS] name]
//	           | COUNT "(" expr ")" [[AS] name]      // as a whole item only
//	from       = FROM name [[AS] alias]              // the alias defaults to name
//	n          = integer | @param                    // non-negative
//	expr       = expr OR expr | expr AND expr | NOT expr
//	           | operand (= | != | <> | < | <= | > | >=) operand
//	           | operand [NOT] IN "(" expr {"," expr} ")"
//	           | operand
//	operand    = literal | @param | path | call | "(" expr ")"
//	           | "[" [expr {"," expr}] "]"           // array
//	           | "{" [key ":" expr {"," key ":" expr}] "}"  // object; key is a name or string
//	path       = alias { "." name | "[" (string | integer | @param) "]" }
//	call       = IS_DEFINED "(" expr ")"
//	           | ARRAY_CONTAINS "(" expr "," expr ["," bool] ")"
//	           | STARTSWITH "(" expr "," expr ["," bool] ")"
//	           | (IS_NULL | IS_BOOL | IS_NUMBER | IS_STRING | IS_ARRAY
//	              | IS_OBJECT | IS_PRIMITIVE) "(" expr ")"  // type checks
//	literal    = ["-"] number | 'string' | "string" | true | false | null | undefined
//
// Strings take the JSON escapes (\' \" \\ \/ \b \f \n \r \t \uXXXX).
// Parameter values may be any JSON value.
//
// Values follow Cosmos DB semantics. Reading a missing property, or a
// property of something that is not an object, yields undefined. Comparing
// undefined, values of different types, or (except with =) arrays and
// objects, yields undefined. NOT, AND and OR use three-valued logic, and
// WHERE keeps a document only when its condition is exactly true. A
// projected property that is undefined is left out of the result object, and
// a SELECT VALUE that is undefined produces no result. ORDER BY sorts null <
// false < true < numbers < strings < arrays < objects (arrays and objects
// keep storage order among themselves), stably, and leaves out documents
// whose sort value is undefined. An unnamed projection is named after the
// last property of its path, or $1, $2, ... otherwise.
//
// Anything else — JOIN, GROUP BY, DISTINCT, subqueries, user-defined
// functions, arithmetic and string operators, BETWEEN, LIKE, other system
// functions and aggregates — makes Parse fail with a *ParseError naming the
// construct and its byte offset, so the emulator never answers a query it
// does not understand.
package query
