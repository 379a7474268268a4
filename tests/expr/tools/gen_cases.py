#!/usr/bin/env python3
"""Writes the expression case files (tests/expr/cases/*.jsonl) from the lists
below. Each case is an expression and an optional dataset name or inline data;
expected results are then filled in by fill_expected.mjs from the reference
implementation, and reviewed. After generation the .jsonl files are the data:
edit or append to them directly (adding a case needs no code)."""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "cases")

C = {}
def add(group, dataset, *exprs, data=None, bindings=None):
    for e in exprs:
        case = {"expr": e}
        if dataset: case["dataset"] = dataset
        if data is not None: case["data"] = data
        if bindings is not None: case["bindings"] = bindings
        C.setdefault(group, []).append(case)

A, I, L, T, N = "address", "invoice", "library", "triage", "nested"

# --- paths --------------------------------------------------------------
add("paths", A, "FirstName", "Surname", "Age", "Address", "Address.City", "Address.Street", "Address.Nothing",
    "Nothing", "Nothing.City", "Phone", "Phone.number", "Phone.type", "Phone[0]", "Phone[0].number", "Phone[1].number",
    "Phone[-1].number", "Phone[-2].type", "Phone[9]", "Phone[type='office'].number", "Phone[type='mobile'].number",
    "Email.address", "Email.address[0]", "Email[0].address[1]", "Email[type='home'].address", "Email.address[1]",
    "Other.`Over 18 ?`", "Other.`Alternative.Address`.City", "Other.Misc", "Other.Misc.x", "`FirstName`",
    "Address.(City & ', ' & Postcode)", "Phone.(type & ':' & number)", "$.FirstName", "$$.Surname",
    "Address.$.City", "Phone[type='office'][1].number", "Phone[number]", "Phone[nothing]", "Email[0].address",
    "Email.address[-1]", "(Email.address)[-1]", "(Phone.number)[0]", "Phone.number[0]", "Phone[[0,2]].number",
    "Phone[[1..3]].type", "Phone[[]]", "Email[].type", "Address[]", "FirstName[]", "Phone[0][]", "Age[0]", "Age[1]",
    "Age[-1]", "Address.City[0]", "Phone.$", "Phone.$.type", "Phone[$.type='home']", "$[0]", "$[0].FirstName")
add("paths", I, "Account.Order.Product.Price", "Account.Order.Product.`Product Name`", "Account.Order[0].OrderID",
    "Account.Order.Product[0].Price", "Account.Order.Product.Description.Colour", "Account.Order[1].Product[-1].Quantity",
    "Account.Order.Product[Price > 30].`Product Name`", "Account.Order.Product[Description.Colour='Purple'].SKU",
    "Account.Order.(Product.Price)", "Account.Order.Product.(Price * Quantity)", "$sum(Account.Order.Product.(Price * Quantity))",
    "Account.Order.$sum(Product.(Price*Quantity))", "Account.Order[OrderID='order104'].Product.ProductID",
    "Account.`Account Name`", "Account.Order.Product.ProductID[2]", "(Account.Order.Product.ProductID)[2]",
    "Account.Order.Product[[0]].SKU", "Account.Order[0].Product[0].Description.*", "Account.Order.OrderID[]",
    "Account.Order[0].OrderID[]")
add("paths", N, "a", "a[0]", "a[1]", "a[1][1]", "a.$", "a[1][1][0]", "b.c.d", "b.c[0].d", "b.c.d[0]", "b.c.e",
    "matrix[1]", "matrix[1][2]", "matrix.$[0]", "matrix[0][0]", "matrix.$", "deep.l1.l2.l3.l4", "deep.*.*.*.*",
    "empty", "empty[0]", "emptyObj", "nul", "nul.x", "t", "f", "zero", "str", "nums[0]", "nums[-1]", "nums[[0,1,2]]",
    "words[1]", "a.b", "b.c[d=2]", "b.c[d][0]")
add("paths", None, "$", "$$", "$[0]", "$.a", "a", data={"a": 1})
add("paths", None, "$", "$[0]", "$[1]", "$[-1]", "$.a", "a", "$[0].a", "[$][0]", "$$[1]", data=[{"a": 1}, {"a": 2}])
add("paths", None, "$", "$[0]", "$.x", "$ + 1", data=5)
add("paths", None, "$", "$.x", "$ & '!'", data="hello")
add("paths", None, "$", "$.a", "a.b.c", "$[0]")
add("paths", None, "a.b", "a.b.c", "a.b[0]", "a[0].b", "a.b.c[1]", data={"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}]})
add("paths", None, "x.y", "x[0].y", "x.y[0]", "x.y[1]", data={"x": [{"y": [1, 2]}, {"y": [3]}, {"y": 4}]})
add("paths", None, "foo.bar", "foo.bar[]", "foo[].bar", "foo.bar.baz", data={"foo": {"bar": [42]}})

# --- wildcards & descendants ---------------------------------------------
add("wildcards", A, "*", "Address.*", "*.City", "Phone.*", "Other.*", "*[0]", "**.City", "**.Postcode", "**.type",
    "**[type='home']", "$count(**)", "Email.**", "*.*", "**.number[0]", "Address.**", "**.address[0]")
add("wildcards", N, "*", "deep.**", "b.**", "$count(*)", "matrix.*", "**.d", "**.l4", "*[0]", "$count(**)")
add("wildcards", None, "*", "**", "*.*", "$.*", data={"a": [1, [2, 3]], "b": {"c": 4}})
add("wildcards", None, "*", data={"a": 1})
add("wildcards", None, "*", data={"a": [1]})
add("wildcards", None, "*", "**", data=[{"a": 1}, {"b": 2}])

# --- predicates ------------------------------------------------------------
add("predicates", T, "tickets[status='open']", "tickets[status='open'].id", "tickets[priority>1].id",
    "tickets[amount].id", "tickets[not(amount)].id", "tickets[status in ['open','pending']].id",
    "tickets[priority=1][0].id", "tickets[priority=1][-1].id", "tickets[0,1]", "tickets[[0,1]].id", "tickets[[0..2]].id",
    "tickets[$.priority > 1 and status='open'].amount", "tickets[-1]", "tickets[1.5].id", "tickets[-1.5].id",
    "tickets[true]", "tickets[false]", "tickets['x']", "tickets[''].id", "tickets[{}]", "tickets[[]]",
    "tickets[status='nope']", "tickets[amount > 20][1].id", "history[role='user'][-1].text",
    "history[role='assistant'].text", "history[ts > 1700000001000].role", "customer.tags[0]", "customer.tags[1]",
    "customer.tags[$='vip']", "customer.tags[$ != 'vip']", "customer[plan='pro'].email", "customer[plan='free'].email",
    "tickets[id='T-3'].(amount * 2)", "tickets[priority = $max($$.tickets.priority)].id",
    "tickets[$contains(id, '2')].status", "tickets[status='open'][priority>2].id", "history[0..1]")
add("predicates", N, "nums[$ > 4]", "nums[$ = 5]", "nums[$ % 2 = 0]", "nums[[2,3]]", "nums[-2]", "nums[0][0]",
    "words[$ > 'b']", "matrix[0][[0,2]]", "matrix[[0,2]]", "matrix.$[[0,2]]", "a[$ > 2]", "a[0][1]", "a[[1]]",
    "nums[[-1, -2]]", "nums[[99]]", "nums[$ < 0]", "matrix[$[0] > 3]")
add("predicates", None, "$[0]", "$[1]", "$[-1]", "$[[0,2]]", "$[$ > 1]", "$[$ > 10]", "$[2][0]", data=[1, 2, 3])
add("predicates", None, "$[0]", "$[type='a'].v", "$[v > 1].type", data=[{"type": "a", "v": 1}, {"type": "b", "v": 2}, {"type": "a", "v": 3}])

# --- parent ------------------------------------------------------------------
add("parent", I, "Account.Order.Product.{'name': `Product Name`, 'order': %.OrderID}",
    "Account.Order.Product.%.OrderID", "Account.Order.Product.%.%.`Account Name`",
    "Account.Order.Product[%.OrderID='order104'].SKU", "Account.Order.Product.Description.%.`Product Name`",
    "Account.Order.Product.(%.OrderID & ':' & `Product Name`)", "Account.Order.Product.Description.Colour.%.%.Price",
    "Account.Order.Product.[%.OrderID, Price]", "Account.Order.Product.{ %.OrderID: Price }",
    "Account.Order.Product.(%.%.`Account Name`)", "Account.Order.Product^(%.OrderID).SKU")
add("parent", L, "library.loans@$L.library.books@$B[$L.isbn=$B.isbn].{'title': $B.title, 'customer': $L.customer}",
    "library.books#$i[authors='Aho'].{'i': $i, 'title': title}",
    "library.loans@$L.library.customers[$L.customer=id].{'customer': name, 'return': $L.return}",
    "library.books@$b.authors@$a.{'a': $a, 't': $b.title}",
    "library.books.authors.%.title", "library.books[price < 30].authors.%.isbn")

# --- positional & context binding ---------------------------------------
add("binding", L, "library.books#$i.{'index': $i, 'title': title}", "library.books#$i[$i < 2].title",
    "library.books#$i[price > 30].{'i': $i}", "library.books[price > 30]#$i.{'i': $i, 'p': price}",
    "library.books@$b.{'t': $b.title}", "library.books@$b#$i.{'i': $i, 't': $b.title}",
    "library.customers@$c.library.loans[customer=$c.id].isbn",
    "library.loans@$l.library.books@$b[$l.isbn=$b.isbn].{'book': $b.title, 'due': $l.return}",
    "library.books#$pos[section='physics'].$pos", "library.books.authors#$i.{'a': $, 'i': $i}",
    "library.books@$b^($b.price).title", "library.books#$i^(>price).{'i': $i, 'p': price}",
    "library.customers#$i.(name & ' #' & $i)", "library.books[0..1]#$i.$i",
    "library.books@$b.$b.authors[0]", "library.books@$b{$b.section: $count($b)}",
    "library.books@$b.authors@$a{ $a: $count($b) }")
add("binding", None, "$#$i.{'v': $, 'i': $i}", "$#$i[$i > 0]", "$@$x.($x * 2)", data=[10, 20, 30])

# --- constructors -------------------------------------------------------
add("constructors", None, "[]", "[1]", "[1,2,3]", "[1,[2,3]]", "[[1]]", "[[]]", "[1,'a',true,null]", "{}",
    "{'a':1}", "{'a':1,'b':[1,2]}", "{'a':{'b':{'c':1}}}", "[{}]", "[1,2][0]", "[1,2][-1]", "[[1,2],[3]][1]",
    "{'a':1}.a", "[{'a':1},{'a':2}].a", "['a','b'][1]", "[1..3]", "[1..3, 5]", "[0, 1..3, 7..8]", "[3..1]",
    "{'k': undefined}", "[undefined]", "[1, undefined, 2]", "{'a': [][0]}", "{'x': 1, 'y': 2}.*",
    "[1,2,3].{'v': $}", "[1,2,3].[$, $*2]", "[[1,2],[3,4]].$[0]", "{'a': 1, 'a': 2}", "[1,2,3][]",
    "{'a': 1}[]", "['x'][]", "[{'a':[1,2]}].a", "[{'a':[1]}].a", "[{'a':[1]}].a[]", "{'n': null}",
    "{'list': [1,2,3][$ > 1]}", "{ 'a': 'b' }.a & 'c'", "[1,2,3].($ * 10)", "{'a': 1} = {'a': 1}",
    "[{'a':1},{'a':2},{'a':3}][a>1]", "{'1': 'one'}.`1`", "{\"quoted\": \"double\"}")
add("constructors", T, "{'user': userId, 'type': issue_type}", "{'route': urgency = 'high' ? 'human' : 'auto'}",
    "[message, userId]", "{'tags': customer.tags}", "{'n': $count(history)}", "history.{'who': role}",
    "history.[role]", "history.[role, text]", "{'tickets': tickets.id}", "tickets{status: id}",
    "tickets{status: $count(id)}", "tickets{status: $sum(amount)}", "{customer.plan: userId}",
    "tickets.{id: status}", "[tickets.amount]", "[tickets.priority, 99]", "{'a': tickets[0].id, 'b': tickets[-1].id}")
add("constructors", A, "{'name': FirstName & ' ' & Surname, 'mobile': Phone[type='mobile'].number}",
    "Phone.{type: number}", "Phone{type: number}", "Phone{type: number[]}", "Phone{type: $count(number)}",
    "Email.{type: address}", "{'emails': Email.address}", "[Address, Other.`Alternative.Address`].City",
    "[Address, Other.`Alternative.Address`].{'city': City}", "Phone.[type]", "[Phone.type]")

# --- ranges --------------------------------------------------------------
add("ranges", None, "[1..5]", "[0..0]", "[-2..2]", "[5..1]", "[1..3].($*$)", "$count([1..1000])", "$sum([1..100])",
    "[1..$x]", "[$x..1]", "(1..3)", "[1..3][1]", "[(1+1)..(2*3)]", "[1..'3']", "[1.5..3]", "[1..3.5]", "[1..null]",
    "$count([1..10000000])")

# --- arithmetic ----------------------------------------------------------
add("arithmetic", None, "1+2", "5-3", "4*2.5", "10/4", "10%3", "-10%3", "10%-3", "5.5%2", "2*3+4", "2+3*4", "(2+3)*4",
    "10-2-3", "100/10/2", "-5", "--5", "-(3+2)", "1/3", "0.1+0.2", "1e3", "1E-2", "2.5e+2", "1.23456789012345678",
    "9007199254740993", "1e21", "1e-7", "123456789012345680000", "0.000001", "-0", "3 * -2", "2-1", "a+1", "1+a",
    "'1'+1", "1+'1'", "true+1", "null+1", "[1]+1", "{}+1", "1/0", "-1/0", "0/0 = 0/0", "$x + 1", "1 + $x",
    "-'a'", "-undefined", "-[1]", "- null", "7.0", "1.50", "0.5e1", "1000000", "123.456*1000", "2*2*2*2*2*2*2*2*2*2")
add("arithmetic", I, "Account.Order.Product.Price * 2", "Account.Order[0].Product[0].Price + Account.Order[0].Product[1].Price",
    "Account.Order.Product[0].Quantity - 1", "Account.Order.Product.Price + 1")
add("arithmetic", None, "a * b", "a / b", "a % b", "a - b", "a + c", "c + c", data={"a": 6, "b": 4, "c": None})

# --- comparison -----------------------------------------------------------
add("comparison", None, "1=1", "1=2", "1!=2", "1!=1", "'a'='a'", "'a'='b'", "'a'!='b'", "1<2", "2<1", "1<=1", "2>=3",
    "3>2", "'a'<'b'", "'B'<'a'", "'abc'<'abd'", "'10'<'9'", "1=1.0", "1='1'", "true=true", "true=false", "null=null",
    "null=false", "[1,2]=[1,2]", "[1,2]=[2,1]", "{'a':1}={'a':1}", "{'a':1,'b':2}={'b':2,'a':1}", "{'a':1}={'a':2}",
    "x=1", "1=x", "x!=1", "x<1", "1<x", "x>x", "1<'a'", "'a'>1", "true<1", "null<1", "[1]<[2]", "{}>1", "1 == 1",
    "'a' == 'a'", "1 == 2", "'x' == \"x\"", "(1==1) = true", "1 != 1 == false", "1 = 1 = true")
add("comparison", T, "urgency = 'high'", "urgency == 'high'", "urgency == 'low'", "urgency != 'low'",
    "confidence < 0.7", "confidence >= 0.62", "confidence > 0.62", "urgency == 'high' or confidence < 0.7",
    "urgency == 'high' and confidence < 0.7", "customer.plan = 'pro' and customer.tenure_months > 24",
    "tickets.status = 'open'", "tickets.priority > 2", "tickets.amount = 12", "nope = nope", "nope != 'x'",
    "customer.tags = 'vip'", "$count(tickets[status = 'open']) > 1")

# --- boolean -------------------------------------------------------------
add("boolean", None, "true and true", "true and false", "false or true", "false or false", "true or x", "false and x",
    "x and true", "x or true", "x or x", "1 and 1", "0 or ''", "'a' and [1]", "[] or {}", "[0] or [false]",
    "[1,0] and true", "{'a':1} and true", "null or false", "not(true)", "not(false)", "not(0)", "not('')", "not([])",
    "not({})", "not(x)", "true and (false or true)", "(1 > 2) or (3 > 2)", "1 in [1,2]", "3 in [1,2]", "'a' in ['a']",
    "'a' in 'a'", "1 in []", "x in [1]", "1 in x", "[1] in [[1]]", "null in [null]", "true in [1, true]",
    "'b' in ['a','b','c']", "and", "or", "in")
add("boolean", None, "and", "or", "in", "and + or", "$.and", "in * 2", data={"and": 1, "or": 2, "in": 3})
add("boolean", T, "customer.tags[0] in ['vip', 'gold']", "urgency in ['high', 'medium']", "issue_type in ['account_access']",
    "'vip' in customer.tags", "'free' in customer.plan")

# --- strings & concat ---------------------------------------------------------
add("concat", None, "'a' & 'b'", "'a' & 1", "1 & 2", "'a' & true", "'a' & null", "'a' & x", "x & 'a'", "x & x",
    "'a' & [1,2]", "'a' & {'b':1}", "'a' & 1.5", "'a' & (1/3)", "'x' & 1e21", "'' & ''", "\"double\" & 'single'",
    "'it''s'", "'a\\nb'", "'tab\\there'", "'\\u00e9'", "'\\ud83d\\ude00'", "'quote \\\" here'", "\"esc \\\\ slash \\/\"",
    "'snow ☃' & '!'", "'a' & $string(1) & 'b'", "'a' & function(){1}")
add("concat", A, "FirstName & ' ' & Surname", "Address.City & ', ' & Address.Postcode", "Phone.number & ';'",
    "FirstName & Nothing & Surname")

# --- conditionals ---------------------------------------------------------
add("conditional", None, "true ? 'yes' : 'no'", "false ? 'yes' : 'no'", "1 ? 'yes' : 'no'", "0 ? 'yes' : 'no'",
    "'' ? 'yes' : 'no'", "[] ? 'yes' : 'no'", "x ? 'yes' : 'no'", "true ? 'yes'", "false ? 'yes'",
    "1 > 2 ? 'a' : 2 > 1 ? 'b' : 'c'", "(true ? 1 : 2) + 1", "true ? (false ? 1 : 2) : 3", "x ?: 'default'",
    "0 ?: 'zero'", "'' ?: 'empty'", "'v' ?: 'default'", "[] ?: 'none'", "[0] ?: 'none'", "x ?? 'default'",
    "0 ?? 'zero'", "null ?? 'null'", "false ?? 'f'", "x ?? y ?? 'z'", "(x ?? 1) + 1", "'a' ?: 'b' ?: 'c'",
    "x ?: y ?: 'z'", "$exists(x) ? x : 'none'")
add("conditional", T, "urgency = 'high' ? 'escalate' : 'answer'", "confidence < 0.7 ? 'review' : 'auto'",
    "customer.plan ?: 'free'", "customer.nothing ?? 'n/a'", "tickets[0].amount ?? 0", "tickets[3].amount ?? 0",
    "$exists(customer.email) ? 'has email' : 'ask'", "issue_type = 'billing' ? {'queue': 'billing'} : {'queue': 'general'}")

# --- variables, blocks -------------------------------------------------------
add("variables", None, "$x", "$x + 1", "$y.a", "$y.a.b", "$z[1]", "$undefinedVar", "($a := 5; $a * 2)",
    "($a := 5; $b := $a + 1; $a * $b)", "($a := [1,2,3]; $a[1])", "($a := {'k': 'v'}; $a.k)", "($a := 1; ($a := 2); $a)",
    "($a := 1; ($a := 2; $a))", "( )", "(1; 2; 3)", "($x := 7)", "$a := 1", "($f := function($n) { $n * 2 }; $f(21))",
    "($a := $b := 3; $a + $b)", "(($a := 1); $a)", "($s := 'str'; $s & $s)", "$", "$$",
    bindings={"x": 10, "y": {"a": 2}, "z": [1, 2, 3]})
add("variables", T, "($msg := message; $length($msg))", "($c := customer; $c.plan & '/' & $c.email)",
    "($open := tickets[status='open']; $count($open))", "($t := tickets; $t[priority=1].id)",
    "($$ := 1; $$)", "($ := 1; $)", "$$.userId", "tickets.($$.userId & ':' & id)")

# --- functions: lambdas, closures, partial application, signatures --------------
add("lambdas", None, "function($x){$x*2}(4)", "λ($x){$x+1}(1)", "(function($x, $y){$x + $y})(1, 2)",
    "($add := function($a, $b){ $a + $b }; $add(3, 4))", "($f := function($x){ $x }; $f())",
    "($f := function($x, $y){ [$x, $y] }; $f(1))", "($f := function(){ 42 }; $f())",
    "($f := function($x){ $x * 2 }; $f(1, 2))",
    "($fact := function($n){ $n <= 1 ? 1 : $n * $fact($n - 1) }; $fact(10))",
    "($fib := function($n){ $n < 2 ? $n : $fib($n-1) + $fib($n-2) }; $fib(15))",
    "($loop := function($n, $acc){ $n = 0 ? $acc : $loop($n - 1, $acc + $n) }; $loop(5000, 0))",
    "($even := function($n){ $n = 0 ? true : $odd($n - 1) }; $odd := function($n){ $n = 0 ? false : $even($n - 1) }; $even(1001))",
    "($make := function($k){ function($x){ $x + $k } }; $add5 := $make(5); $add5(10))",
    "($counter := function(){ ($c := 0; function(){ $c + 1 }) }; $counter()())",
    "($compose := function($f, $g){ function($x){ $g($f($x)) } }; $inc := function($x){$x+1}; $dbl := function($x){$x*2}; $compose($inc, $dbl)(3))",
    "($x := 1; $f := function(){ $x }; $x := 2; $f())", "($f := function($x){ $x.a }; $f({'a': 5}))",
    "function($x){ $x }", "[function($x){$x}]", "{'f': function($x){$x}}", "$type(function(){1})",
    "($f := function($x)<n:n>{ $x * 2 }; $f(3))", "($f := function($x)<n:n>{ $x * 2 }; $f('3'))",
    "($f := function($s)<s-:s>{ $uppercase($s) }; 'abc'.$f())", "($f := function($a)<a<n>:n>{ $sum($a) }; $f(5))",
    "($f := function($a)<a<n>:n>{ $sum($a) }; $f([1,2,3]))", "($f := function($a)<a<n>:n>{ $sum($a) }; $f(['a']))",
    "($f := function($x, $y)<nn?:a>{ [$x, $y] }; $f(1))", "($f := function($x)<x:s>{ $type($x) }; $f(null))",
    "($f := function($o)<o:s>{ $keys($o)[0] }; $f({'k': 1}))", "($f := function($f2)<f:n>{ $f2(1) }; $f(function($v){$v+1}))",
    "($f := function($x)<(ns):s>{ $string($x) }; $f(true))", "($f := function($x)<(ns):s>{ $string($x) }; $f(5))",
    "($f := function($x)<j:j>{ $x }; $f({'a':1}))", "($f := function($x)<b:b>{ $not($x) }; $f(false))",
    "($f := function($x)<l:s>{ 'null!' }; $f(null))", "($f := function($n)<n+:n>{ $n }; $f(1))",
    "$substring(?, 0, 3)('abcdef')", "($first3 := $substring(?, 0, 3); $first3('hello'))",
    "($add := function($a, $b){ $a + $b }; $inc := $add(?, 1); $inc(41))",
    "($f := function($a, $b, $c){ $a & $b & $c }; $f(?, 'B', ?)('A', 'C'))",
    "($pow2 := $power(2, ?); $pow2(10))", "($sum3 := $sum(?); $sum3([1,2,3]))",
    "['a','bb','ccc'].$length()", "['a','bb'].$uppercase()", "$map([1,2,3], $string)", "$map(['1','2'], $number)",
    "($f := $uppercase; $f('x'))", "($f := function(){ $ }; 'ctx'.$f())", "[1,2,3].(function($x){ $x * $ })(10)",
    "$x(1)", "foo(1)", "sum([1])", "$sum2(1)", "$f := function($x){$x}", "function($x, 1){1}",
    "($f := function($x){ $x }; $f(?)(5))", "(function($a, $b){ $b })(?, 2)(1)", "'x'(1)", "1(2)", "$nothing(?)",
    "true ? function($x){$x}(1) : 0")

# --- function application ~> --------------------------------------------------------
add("chain", None, "'hello' ~> $uppercase()", "'hello' ~> $uppercase", "'  hi  ' ~> $trim() ~> $uppercase()",
    "[1,2,3] ~> $sum()", "[1,2,3] ~> $map(function($x){$x*2}) ~> $sum()", "'a,b,c' ~> $split(',')",
    "'abc' ~> $substring(1)", "($f := $uppercase ~> $trim; $f(' x '))", "($f := $trim ~> $uppercase; '  ab ' ~> $f)",
    "5 ~> function($x){$x*$x}()", "5 ~> function($x){$x*$x}", "'x' ~> 5", "x ~> $uppercase()", "[3,1,2] ~> $sort() ~> $reverse()",
    "($double := function($x){ $x * 2 }; 4 ~> $double)", "{'a':1} ~> $keys()", "'abc' ~> $length() ~> $string()")
add("chain", T, "message ~> $uppercase()", "tickets.amount ~> $sum()", "customer.tags ~> $join('|')",
    "history.text ~> $join(' / ') ~> $length()", "message ~> $contains('charged')")

# --- transform ---------------------------------------------------------------------
add("transform", None, "$ ~> |a|{'x': 1}|", "$ ~> |a|{}, 'b'|", "$ ~> |$|{'new': true}|", "$ ~> |a|{'b': b * 10}|",
    "$ ~> |a|{}, ['b', 'c']|", "$ ~> |nothing|{'x': 1}|", "$ ~> |a.d|{'e': 'deep'}|", "$ ~> |$|{}, 'a'|",
    "($t := |a|{'z': 26}|; $t($))", "$ ~> |a|{'b': undefined}|", "$ ~> |a|5|", "$ ~> |a|{}, 5|",
    "[{'a':1},{'a':2}] ~> |$|{'b': a + 1}|", "$ ~> |*|{'seen': true}|", "$ ~> |a|{'b': b, 'c': c}|",
    data={"a": {"b": 1, "c": 2, "d": {"x": 1}}, "k": "v"})
add("transform", T, "$ ~> |customer|{'plan': 'enterprise'}|", "($ ~> |tickets[status='open']|{'status': 'triaged'}|).tickets.status",
    "($ ~> |$|{}, ['history', 'tickets']|).*", "$ ~> |customer|{}, 'email'| ~> $lookup('customer')")

# --- higher-order functions -------------------------------------------------------
add("hof", None, "$map([1,2,3], function($v){ $v * 2 })", "$map([1,2,3], function($v, $i){ $v * $i })",
    "$map([1,2,3], function($v, $i, $a){ $count($a) })", "$map([], function($v){ $v })", "$map(x, function($v){ $v })",
    "$map(5, function($v){ $v + 1 })", "$map([1,2,3], function($v){ $v > 1 ? $v : undefined })",
    "$map(['a','b'], $uppercase)", "$map([1,2], function($v){ [$v, $v] })", "$map([[1,2],[3]], $count)",
    "$filter([1,2,3,4], function($v){ $v % 2 = 0 })", "$filter([1,2,3], function($v, $i){ $i > 0 })",
    "$filter([1,2,3], function($v){ false })", "$filter(5, function($v){ true })", "$filter(x, function($v){ true })",
    "$filter([{'a':1},{'a':2}], function($v){ $v.a > 1 })", "$reduce([1,2,3,4], function($a, $b){ $a + $b })",
    "$reduce([1,2,3,4], function($a, $b){ $a + $b }, 10)", "$reduce([], function($a, $b){ $a + $b })",
    "$reduce([], function($a, $b){ $a + $b }, 5)", "$reduce([5], function($a, $b){ $a + $b })",
    "$reduce([1,2,3], function($a, $b, $i){ $a + $b * $i }, 0)", "$reduce([1,2,3], function($a, $b, $i, $arr){ $count($arr) })",
    "$reduce(['a','b','c'], function($a, $b){ $b & $a })", "$reduce([1,2], function($a){ $a })", "$reduce(x, function($a,$b){1})",
    "$single([1,2,3], function($v){ $v = 2 })", "$single([1,2,3], function($v){ $v > 1 })", "$single([1,2,3], function($v){ $v > 5 })",
    "$single([7])", "$single([1,2])", "$single(8)", "$single([], function($v){true})",
    "$sift({'a':1,'b':2,'c':3}, function($v){ $v > 1 })", "$sift({'a':1,'b':2}, function($v, $k){ $k = 'a' })",
    "$sift({'a':1}, function($v){ false })", "$each({'a':1,'b':2}, function($v, $k){ $k & '=' & $v })",
    "$each({'a':1,'b':2}, function($v){ $v * 10 })", "$each({}, function($v){ $v })",
    "$sort([3,1,2], function($a, $b){ $a > $b })", "$sort([3,1,2], function($a, $b){ $a < $b })",
    "$sort(['bb','a','ccc'], function($a, $b){ $length($a) > $length($b) })",
    "$sort([{'n':2},{'n':1}], function($a, $b){ $a.n > $b.n }).n", "$map([1,2,3], $string)",
    "$filter([1,'a',true], function($v){ $type($v) = 'number' })", "$map([1,2], function(){ 'k' })")
add("hof", T, "$map(tickets, function($t){ $t.id & ':' & $t.status })", "$filter(tickets, function($t){ $t.priority > 1 }).id",
    "$reduce(tickets.amount, function($a, $b){ $a + $b })", "$sort(tickets, function($a, $b){ $a.priority < $b.priority }).id",
    "$single(tickets, function($t){ $t.id = 'T-2' }).status", "$sift(customer, function($v){ $type($v) = 'string' })",
    "$each(customer, function($v, $k){ $k })", "$map(history, function($h, $i){ $i & ':' & $h.role })")

# --- grouping ---------------------------------------------------------------------
add("grouping", I, "Account.Order.Product{`Product Name`: Price}", "Account.Order.Product{`Product Name`: $sum(Price)}",
    "Account.Order.Product{`Product Name`: Quantity}", "Account.Order.Product{Description.Colour: `Product Name`}",
    "Account.Order{OrderID: $sum(Product.(Price*Quantity))}", "Account.Order.Product{`Product Name`: {'price': Price, 'qty': $sum(Quantity)}}",
    "Account.Order.Product{'total': $sum(Price)}", "Account.Order.Product{`Product Name` & '!': $count(SKU)}",
    "Account.Order.Product{ProductID: 1}", "Account.Order.Product{Price: 1}", "Account.Order.Product{'a': 1, 'a': 2}",
    "Account.Order.Product{'x': Price, 'y': Quantity}", "Account.Order.Product{`Product Name`: Price}.`Bowler Hat`",
    "Account.Order.Product.{`Product Name`: Price}", "Account.Order.{'id': OrderID, 'items': Product{`Product Name`: Quantity}}")
add("grouping", None, "$.{type: v}", "${type: v}", "${type: $sum(v)}", "${type: $count(v)}", "$[v > 1]{type: v}",
    "${type: [v]}", "${type: v[]}", "{'x': 1}{'k': x}", "[]{'a': 1}", "x{'a': 1}",
    data=[{"type": "a", "v": 1}, {"type": "b", "v": 2}, {"type": "a", "v": 3}])

# --- order-by ----------------------------------------------------------------
add("orderby", I, "Account.Order.Product^(Price).`Product Name`", "Account.Order.Product^(>Price).`Product Name`",
    "Account.Order.Product^(Quantity, >Price).SKU", "Account.Order.Product^(<Quantity, <Price).SKU",
    "Account.Order.Product^(`Product Name`).Price", "Account.Order.Product^(>`Product Name`).ProductID",
    "Account.Order.Product^(Description.Weight).`Product Name`", "Account.Order^(>OrderID).OrderID",
    "Account.Order.Product^(Price * Quantity).SKU", "Account.Order.Product^(nothing).SKU",
    "Account.Order.Product^(Price)[0].SKU", "Account.Order.Product^(Price)[-1].SKU")
add("orderby", None, "$^($)", "$^(>$)", "$^(x)", "$[$ > 1]^(>$)", data=[3, 1, 2])
add("orderby", None, "$^(v).k", "$^(>v).k", "$^(v, >k).k", "$^(k).v", data=[{"k": "b", "v": 2}, {"k": "a", "v": 2}, {"k": "c", "v": 1}, {"k": "d"}])
add("orderby", None, "$^(v)", data=[{"v": 1}, {"v": "a"}])
add("orderby", None, "$^(v)", data=[{"v": 1}, {"v": {"x": 1}}])

# --- string functions ------------------------------------------------------------------
add("string_functions", None, "$string(1)", "$string('a')", "$string(true)", "$string(null)", "$string([1,2])",
    "$string({'a':1})", "$string({'a':[1,{'b':null}]})", "$string(1.0)", "$string(0.1+0.2)", "$string(1e21)", "$string(1e-7)",
    "$string(-0.5)", "$string(123456789.123456789)", "$string(x)", "$string({'a':1}, true)", "$string([1,{'b':2}], true)",
    "$string(function(){1})", "$string({'f': function(){1}})", "$string(1/0)", "$string(100)", "$string(1e100)",
    "$string(3.14159265358979)", "$string('\"quoted\"')", "$string(['a\\nb'])",
    "$substring('hello world', 0, 5)", "$substring('hello world', 6)", "$substring('hello', -3)", "$substring('hello', -3, 2)",
    "$substring('hello', 1, 0)", "$substring('hello', 1, -1)", "$substring('hello', 10)", "$substring('hello', -10)",
    "$substring('hello', -10, 3)", "$substring('hello', 1.7, 2.2)", "$substring('héllo wörld', 1, 4)", "$substring('😀abc', 1, 2)",
    "$substring(x, 1)", "$substring('abc', '1')", "$substringBefore('hello world', ' ')", "$substringBefore('hello', 'x')",
    "$substringBefore('hello', '')", "$substringBefore(x, 'a')", "$substringAfter('hello world', ' ')",
    "$substringAfter('hello', 'x')", "$substringAfter('a.b.c', '.')", "$substringAfter('hello', '')",
    "$lowercase('HeLLo')", "$lowercase('ÀÉÎ')", "$lowercase(x)", "$uppercase('hello')", "$uppercase('straße')",
    "$uppercase('àéî')", "$uppercase(123)", "$length('hello')", "$length('')", "$length('héllo')", "$length('😀')",
    "$length(x)", "$length(5)", "$length(['a'])", "$trim('  hello   world  ')", "$trim('\\t\\nx\\r ')", "$trim('')",
    "$trim(x)", "$pad('abc', 6)", "$pad('abc', -6)", "$pad('abc', 6, '#')", "$pad('abc', -6, '#')", "$pad('abc', 2)",
    "$pad('abc', 8, 'xy')", "$pad('abc', -8, 'xy')", "$pad('é', 3, '-')", "$pad(x, 3)", "$pad('a', 3, '')",
    "$join(['a','b','c'])", "$join(['a','b','c'], ', ')", "$join([], ',')", "$join('a', ',')", "$join(x, ',')",
    "$join(['a', 1], ',')", "$join(['a','b'], '')", "$contains('hello', 'ell')", "$contains('hello', 'xyz')",
    "$contains('hello', '')", "$contains(x, 'a')", "$contains('abc', /b/)", "$contains('abc', /B/i)", "$contains('abc', /^b/)",
    "$split('a,b,c', ',')", "$split('a,b,c', ',', 2)", "$split('a,b,c', ',', 0)", "$split('abc', '')", "$split('a  b', ' ')",
    "$split('', ',')", "$split('abc', 'x')", "$split(x, ',')", "$split('a1b22c', /\\d+/)", "$split('a1b22c', /\\d+/, 2)",
    "$split('a,b', ',', -1)", "$split('a,b,c', ',', 1.5)", "$replace('hello', 'l', 'L')", "$replace('hello', 'l', 'L', 1)",
    "$replace('hello', 'l', 'L', 0)", "$replace('hello', 'x', 'L')", "$replace('hello', '', 'L')", "$replace(x, 'a', 'b')",
    "$replace('hello', 'l', 'L', -1)", "$replace('abc', /b/, 'B')", "$replace('a1b2', /\\d/, '#')",
    "$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')", "$replace('abc', /(b)/, '[$1]')", "$replace('abc', /b/, '$0$0')",
    "$replace('abc', /b/, '$$')", "$replace('abc', /b/, '$9')", "$replace('abc', /(b)/, '$10')",
    "$replace('price: 12', /(\\d+)/, function($m){ $string($number($m.match) * 2) })",
    "$replace('aaa', /a/, 'b', 2)", "$replace('abc', /B/i, 'x')", "$replace('a.b.c', '.', '-')",
    "$replace('abc', /b/, function($m){ 1 })", "$replace('ab', /x*/, '-')",
    "$base64encode('hello')", "$base64encode('héllo ☃')", "$base64decode('aGVsbG8=')", "$base64decode($base64encode('round ☃ trip'))",
    "$base64encode('')", "$base64encode(x)", "$encodeUrlComponent('a b&c=d/é')", "$encodeUrl('https://x.org/a b?q=1&r=é')",
    "$decodeUrlComponent('a%20b%26c')", "$decodeUrl('https://x.org/a%20b?q=%26')", "$decodeUrlComponent('%')",
    "$encodeUrlComponent(x)", "$string('abc') & $string(1)")
add("string_functions", T, "$uppercase(message)", "$length(message)", "$substring(message, 2, 7)",
    "$contains(message, 'charged')", "$split(message, ' ')[0]", "$count($split(message, ' '))",
    "$join(customer.tags, ',')", "$substringBefore(customer.email, '@')", "$substringAfter(customer.email, '@')",
    "$trim('  ' & message & '  ')", "$replace(message, 'twice', 'two times')", "$string(customer)",
    "message.$uppercase()", "history.text.$length()", "history.$substring(text, 0, 2)")

# --- regex --------------------------------------------------------------------------------
add("regex", None, "$match('abc123def456', /\\d+/)", "$match('abc123def456', /\\d+/, 1)", "$match('abc', /x/)",
    "$match('John Smith', /(\\w+) (\\w+)/)", "$match('a1b2c3', /([a-z])(\\d)/)", "$match('ABC', /b/i)",
    "$match('line1\\nline2', /^line\\d$/m)", "$match('aaa', /a/, 2)", "$match(x, /a/)", "$match('abc', /b/, -1)",
    "$match('abc', /b/, 0)", "$match('tel: 555-1234', /(?<area>\\d{3})-(\\d{4})/)",
    "/ab/('xaby')", "/ab/('xy')", "($re := /b+/; $re('abbbc').match)", "($m := /(a)(b)?/('a'); $m.groups)",
    "$contains('The quick fox', /qu.ck/)", "$contains('ABC', /abc/)", "$contains('ABC', /abc/i)",
    "['apple', 'banana', 'cherry'][$contains($, /an/)]", "$split('one  two   three', /\\s+/)",
    "$replace('2024-01-15', /(\\d+)-(\\d+)-(\\d+)/, '$3/$2/$1')", "$replace('Hello World', /o/, '0')",
    "$replace('aaaa', /a/, 'b', 3)", "$replace('x', /x/, '')", "$match('é1é2', /\\d/)",
    "$match('abc', /(?=b)/)", "$match('abab', /(a)\\1/)", "$match('a', /[/)", "$match('a/b', /\\//)",
    "$replace('a.b', /\\./, '!')", "$split('a|b', /\\|/)", "$match('ab', /a|b/)", "$match('Ab', /[a-z]/)",
    "$match('x', /x/).index", "$match('yx', /x/).index", "$match('a-b-c', /-/).index")

# --- numeric functions -------------------------------------------------------------------
add("numeric_functions", None, "$number('42')", "$number('-3.5')", "$number('1e3')", "$number('0x1F')", "$number('0b101')",
    "$number('0o17')", "$number(true)", "$number(false)", "$number(5)", "$number('abc')", "$number('')", "$number(' 1')",
    "$number('1.')", "$number('.5')", "$number(null)", "$number(x)", "$number([1])", "$number('00012')", "$number('-0')",
    "$floor(3.7)", "$floor(-3.2)", "$floor(5)", "$floor(x)", "$ceil(3.2)", "$ceil(-3.7)", "$abs(-5)", "$abs(5.5)",
    "$abs(x)", "$sqrt(16)", "$sqrt(2)", "$sqrt(-1)", "$sqrt(0)", "$power(2, 10)", "$power(2, -1)", "$power(2, 0.5)",
    "$power(-8, 1/3)", "$power(10, 400)", "$power(0, 0)", "$power(x, 2)", "$round(3.5)", "$round(4.5)", "$round(-3.5)",
    "$round(-4.5)", "$round(3.14159, 2)", "$round(2.675, 2)", "$round(1234.5, -2)", "$round(1250, -2)", "$round(1350, -2)",
    "$round(0.5)", "$round(1.5)", "$round(2.5)", "$round(-0.4)", "$round(x)", "$round(7.125, 2)", "$round(1e20)",
    "$round(12345.6789, 3)", "$random() < 1", "$random() >= 0", "$type($random())", "$formatBase(255, 16)",
    "$formatBase(255, 2)", "$formatBase(100)", "$formatBase(-255, 16)", "$formatBase(35, 36)", "$formatBase(1, 37)",
    "$formatBase(1, 1)", "$formatBase(12.7, 10)", "$formatBase(0, 2)", "$formatBase(x, 2)",
    "$boolean(1)", "$boolean(0)", "$boolean('')", "$boolean('a')", "$boolean([])", "$boolean([0])", "$boolean([0,1])",
    "$boolean({})", "$boolean({'a':1})", "$boolean(null)", "$boolean(x)", "$boolean(function(){1})", "$boolean([[]])",
    "$boolean([false, ''])", "$boolean(-1)", "$not(1)", "$not(x)")
add("numeric_functions", N, "$sum(nums)", "$max(nums)", "$min(nums)", "$average(nums)", "$count(nums)", "$sum(empty)",
    "$max(empty)", "$min(empty)", "$average(empty)", "$count(empty)", "$sum(nothing)", "$count(nothing)", "$max(nothing)",
    "$sum(words)", "$max(words)", "$sum(5)", "$count(5)", "$count('a')", "$count([[1,2],[3]])", "$sum(matrix[0])",
    "$max(matrix.$)", "$average([1,2,3,4])", "$sum([0.1, 0.2])", "$count(nul)", "$sum([1, 'a'])", "$max([1, null])")

# --- formatting numbers ---------------------------------------------------------------------
add("format", None, "$formatNumber(1234.5678, '#,##0.00')", "$formatNumber(0.5, '0%')", "$formatNumber(0.1234, '0.0%')",
    "$formatNumber(1234567.891, '#,###.##')", "$formatNumber(12, '000')", "$formatNumber(-12.3, '0.00')",
    "$formatNumber(1234.5, '#,##0.00;(#,##0.00)')", "$formatNumber(-1234.5, '#,##0.00;(#,##0.00)')",
    "$formatNumber(0, '0.00')", "$formatNumber(3.14159, '0.###')", "$formatNumber(1e6, '#,###')", "$formatNumber(0.00012, '0.00e0')",
    "$formatNumber(12345, '0.00e0')", "$formatNumber(1234.5, '#.##0,00', {'decimal-separator': ',', 'grouping-separator': '.'})",
    "$formatNumber(0.25, '#‰')", "$formatNumber(42, '#')", "$formatNumber(0.123, '.00')", "$formatNumber(5, '00.00')",
    "$formatNumber(1234, '#,##,###')", "$formatNumber(12345678, '#,##,##0')", "$formatNumber(2.5, '0')", "$formatNumber(3.5, '0')",
    "$formatNumber(x, '0')", "$formatNumber(1, '0;0;0')", "$formatNumber(1, '0.0.0')", "$formatNumber(1, '00%%')",
    "$formatNumber(1, '#0')", "$formatNumber(1, '0#')", "$formatNumber(1, 'abc')", "$formatNumber(1, '#,,##0')",
    "$formatNumber(1, '#,##0,')", "$formatNumber(1, '0.#0')", "$formatNumber(98.6, '$##0.0')", "$formatNumber(1.5, '0.0 units')",
    "$formatNumber(123, '٠٠٠٠', {'zero-digit': '٠'})", "$formatNumber(1234.5678, '00.000e0')", "$formatNumber(0.000045, '0.0e0')",
    "$formatInteger(123, '000')", "$formatInteger(1234567, '#,##0')", "$formatInteger(42, 'w')", "$formatInteger(42, 'W')",
    "$formatInteger(42, 'Ww')", "$formatInteger(1999, 'I')", "$formatInteger(1999, 'i')", "$formatInteger(28, 'a')",
    "$formatInteger(28, 'A')", "$formatInteger(1, '1;o')", "$formatInteger(2, '1;o')", "$formatInteger(3, '1;o')",
    "$formatInteger(11, '1;o')", "$formatInteger(12, '1;o')", "$formatInteger(13, '1;o')", "$formatInteger(21, '1;o')",
    "$formatInteger(101, 'w;o')", "$formatInteger(1000000, 'w')", "$formatInteger(1234567, 'w')", "$formatInteger(0, 'w')",
    "$formatInteger(20, 'w;o')", "$formatInteger(100, 'w')", "$formatInteger(-5, '000')", "$formatInteger(3.9, '0')",
    "$formatInteger(1234, '#.##0')", "$formatInteger(12345678, '##-##-##-##')", "$formatInteger(5, '①')",
    "$formatInteger(x, '0')", "$formatInteger(7, '١')", "$formatInteger(2000000000000, 'w')",
    "$parseInteger('123', '000')", "$parseInteger('1,234,567', '#,##0')", "$parseInteger('forty-two', 'w')",
    "$parseInteger('Forty Two', 'Ww')", "$parseInteger('MCMXCIX', 'I')", "$parseInteger('mcmxcix', 'i')",
    "$parseInteger('ab', 'a')", "$parseInteger('AB', 'A')", "$parseInteger('21st', '1;o')",
    "$parseInteger('one hundred and one', 'w')", "$parseInteger('one million, two hundred thousand', 'w')",
    "$parseInteger(x, '0')", "$parseInteger('twelfth', 'w;o')")

# --- array & object functions ---------------------------------------------------------------
add("array_object", None, "$append([1,2],[3,4])", "$append(1, 2)", "$append([1], 2)", "$append(1, [2])", "$append(x, [1])",
    "$append([1], x)", "$append([], [])", "$append([[1]], [[2]])", "$reverse([1,2,3])", "$reverse([])", "$reverse([1])",
    "$reverse(x)", "$reverse(5)", "$count($shuffle([1,2,3,4,5]))", "$sum($shuffle([1,2,3,4,5]))", "$shuffle([])",
    "$distinct([1,2,2,3,1])", "$distinct(['a','b','a'])", "$distinct([{'a':1},{'a':1},{'a':2}])", "$distinct([[1],[1],[2]])",
    "$distinct(5)", "$distinct([])", "$distinct(x)", "$distinct([1,'1',true,1])", "$distinct([null, null])",
    "$sort([3,1,2])", "$sort(['b','c','a'])", "$sort([])", "$sort([1,'a'])", "$sort(x)", "$sort([3])", "$sort(5)",
    "$sort([{'a':1}])", "$sort([2.5, -1, 10])", "$zip([1,2,3],['a','b','c'])", "$zip([1,2],[3])", "$zip([1,2])",
    "$zip(1,2)", "$zip([1,2],[])", "$zip()", "$exists(1)", "$exists(x)", "$exists(null)", "$exists([])", "$exists(false)",
    "$keys({'a':1,'b':2})", "$keys({})", "$keys([{'a':1},{'b':2},{'a':3}])", "$keys(5)", "$keys(x)", "$keys({'a':1})",
    "$lookup({'a':1,'b':2}, 'b')", "$lookup({'a':1}, 'x')", "$lookup([{'a':1},{'a':2}], 'a')", "$lookup(x, 'a')",
    "$spread({'a':1,'b':2})", "$spread([{'a':1},{'b':2,'c':3}])", "$spread(5)", "$spread(x)", "$spread({})",
    "$merge([{'a':1},{'b':2},{'a':3}])", "$merge([])", "$merge({'a':1})", "$merge(x)", "$merge([{'a':1}, 5])",
    "$type(1)", "$type('a')", "$type(true)", "$type(null)", "$type([])", "$type({})", "$type(x)", "$type($type)",
    "$type(/a/)", "$clone({'a':[1,2]})", "$clone(x)", "$clone([1,{'b':2}])", "$count([1,2,3])", "$count([])",
    "$count(x)", "$count([[]])", "$each({'a':1}, function($v, $k){ {$k: $v} })")
add("array_object", T, "$keys(customer)", "$keys(tickets)", "$lookup(customer, 'plan')", "$lookup(tickets, 'status')",
    "$spread(customer)[0]", "$merge([customer, {'plan': 'free'}])", "$distinct(tickets.status)", "$sort(tickets.priority)",
    "$reverse(history.role)", "$zip(history.role, history.ts)", "$append(customer.tags, 'new')", "$exists(customer.tags)",
    "$count(tickets[status='open'])", "$type(tickets)", "$type(customer)", "$type(confidence)")

# --- dates --------------------------------------------------------------------------------
add("datetime", None, "$fromMillis(0)", "$fromMillis(1510067557121)", "$fromMillis(-1)", "$fromMillis(951782400000)",
    "$fromMillis(1510067557121, '[Y0001]-[M01]-[D01]')", "$fromMillis(1510067557121, '[H01]:[m01]:[s01]')",
    "$fromMillis(1510067557121, '[D1o] [MNn] [Y]')", "$fromMillis(1510067557121, '[FNn], [D1] [MNn,*-3] [Y]')",
    "$fromMillis(1510067557121, '[h]:[m01] [P]')", "$fromMillis(1510067557121, '[h]:[m01] [PN]')",
    "$fromMillis(1510067557121, '[Y,2]')", "$fromMillis(1510067557121, '[Y0001]-[d001]')", "$fromMillis(1510067557121, '[W]')",
    "$fromMillis(1510067557121, '[F1]')", "$fromMillis(1510067557121, '[FN]')", "$fromMillis(1510067557121, '[Fn]')",
    "$fromMillis(1510067557121, '[MN]')", "$fromMillis(1510067557121, '[Mn,3-3]')", "$fromMillis(1510067557121, '[f001]')",
    "$fromMillis(1510067557121, '[H01]:[m01] [Z]', '+0530')", "$fromMillis(1510067557121, '[H01]:[m01] [z]', '-0500')",
    "$fromMillis(1510067557121, '[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01][Z01:01]', '+0100')",
    "$fromMillis(1510067557121, '[YI]')", "$fromMillis(1510067557121, '[Yw]')", "$fromMillis(1510067557121, '[Dwo]')",
    "$fromMillis(1510067557121, 'Date: [[[D]]]')", "$fromMillis(1510067557121, '[C] [E]')",
    "$fromMillis(1510067557121, '[Z0000]', '-0330')", "$fromMillis(1510067557121, '[Z0]', '+0100')",
    "$fromMillis(1510067557121, '[Z]', '+0000')", "$fromMillis(1510067557121, '[H01]:[m01][Z01:01t]')",
    "$fromMillis(1514764800000, '[W01] [X]')", "$fromMillis(1514678400000, '[W] [X]')", "$fromMillis(1510067557121, '[w] [xNn]')",
    "$fromMillis(x)", "$fromMillis(1510067557121, '[Q]')", "$fromMillis(1510067557121, '[Y')", "$fromMillis(1510067557121, '[DNn]')",
    "$toMillis('2017-11-07T15:12:37.121Z')", "$toMillis('2017-11-07')", "$toMillis('2017-11-07T15:12:37+01:00')",
    "$toMillis('1970-01-01T00:00:00Z')", "$toMillis('2017')", "$toMillis('2017-11')", "$toMillis('not a date')",
    "$toMillis(x)", "$toMillis('2017-11-07T15:12:37.5Z')", "$toMillis('2018-02-01', '[Y0001]-[M01]-[D01]')",
    "$toMillis('01/02/2018', '[D01]/[M01]/[Y0001]')", "$toMillis('7 November 2017', '[D1] [MNn] [Y0001]')",
    "$toMillis('2017-11-07 15:12', '[Y0001]-[M01]-[D01] [H01]:[m01]')", "$toMillis('3:15 pm 2017-01-01', '[h]:[m01] [P] [Y0001]-[M01]-[D01]')",
    "$toMillis('2018-02-01T09:42:13Z', '[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01][Z]')", "$toMillis('20180201', '[Y0001][M01][D01]')",
    "$toMillis('2018-032', '[Y0001]-[d001]')", "$toMillis('Twenty Eighteen', '[YWw]')", "$toMillis('x', '[Y0001]')",
    "$toMillis('2018 05', '[Y0001] [D01]')", "$fromMillis($toMillis('2017-11-07T15:12:37.121Z'))",
    "$toMillis($fromMillis(1510067557121, '[Y0001]-[M01]-[D01] [H01]:[m01]:[s01].[f001]'), '[Y0001]-[M01]-[D01] [H01]:[m01]:[s01].[f001]')",
    "$type($now())", "$type($millis())", "$now() = $now()", "$millis() = $millis()", "$length($now()) > 10",
    "$type($now('[Y0001]'))", "$toMillis($now()) = $millis()")

# --- eval, error, assert ---------------------------------------------------------------
add("misc_functions", None, "$eval('1 + 2')", "$eval('[1,2,3]')", "$eval('$.a', {'a': 5})", "$eval('a', {'a': 6})",
    "$eval('$$', [1,2])", "$eval('1 +')", "$eval('$x')", "$eval(x)", "$eval('{\"k\": 1}').k", "$eval('$string(a)', {'a': [1]})",
    "$eval('unknownFn()')", "($y := 3; $eval('$y * 2'))", "$error('custom failure')", "$error()", "$assert(true, 'ok')",
    "$assert(1 = 2, 'one is not two')", "$assert(false)", "$assert(1, 'x')", "$exists($error)", "$type($eval)")

# --- flattening and singleton rules -------------------------------------------------------
add("sequences", None, "a.b", "a.b[]", "a[].b", "a.b.c", "a.b.c[]", "a.b[0]", "a.b.c[0]", "(a.b)[0]", "a.b.c.d",
    "$count(a.b)", "$count(a.b.c)", "[a.b]", "[a.b.c]", "a.[b]", "a.[b.c]", "a.b.[c]", "a.{'x': b.c}", "$type(a.b)",
    "a[0].b.c", "a[-1].b.c", "a.b[-1].c", "$string(a.b.c)", "a.b.c = 1", "a.b.c = 5",
    data={"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}, {"b": [{"c": [4, 5]}]}]})
add("sequences", None, "x", "x[]", "x.y", "x.y[]", "$.x", "$.x[]", "[x]", "[[x]]", "x[0]", "x[0][]",
    data={"x": [{"y": 1}]})
add("sequences", None, "$", "$[]", "$.a", "$.a[]", "$[0]", "$[0].a", "$count($)", "$$", "$$[0]",
    data=[{"a": 1}])
add("sequences", None, "$", "$[0]", "$.a", "$[0][0]", "$count($)", data=[[1, 2], [3]])

# --- errors -------------------------------------------------------------------------------
add("errors", None, "1 +", "(1", "[1,2", "{'a':1", "{'a' 1}", "'unterminated", "\"unterminated", "`unterminated",
    "/* comment", "1 2", "a.", ".a", "$f(", "1 ? ", "[1,2,]", "{'a':1,}", "1 := 2", "'a' := 1", "$a := ", "@", "#",
    "a @ b", "a # b", "|a|", "| a | b", "a[", "a]", "a[]]", "]", ")", "}", ",", "a..b", "1.2.3", "'\\q'", "'\\u12'",
    "1e999", "5.a", "true.a", "null.a", "'s'.a", "a.'s'", "a.1", "a.true", "function($x, $y", "function(1){1}",
    "function($x){$x", "%", "$.%", "a.(%)", "~> $f", "5 ~> 6", "a{'x':1}{'y':2}", "a{'x':1}[0]", "a.b@$x[0]@$y",
    "a^(b)@$x", "/", "//", "$match('a', /)", "a<", "a<=", "!a", "a!b", "a~b", "x ?? ", "?: 1", "a ? : b",
    "$substring()", "$substring('a', 'b')", "$sum('a')", "$sum(['a'])", "$count(1, 2)", "$uppercase(1)",
    "$join([1,2])", "$map([1], 1)", "$filter(1)", "$keys()", "$string(1, 2)", "$lookup({}, 1)", "$max(['a','b'])",
    "$reduce([1], 'x')", "$contains(1, 'a')", "$split('a', 1)", "$replace('a', 1, 'b')", "$each(1, 2)",
    "$zip('a', 1)", "$sort([1], 1)", "$number({})", "$number([1,2])", "$abs('1')", "$power(1)", "$formatNumber('a', '0')",
    "$fromMillis('1')", "$toMillis(1)", "$clone(1)", "$spread()", "$merge([1])", "$round('1')", "$not()", "$exists()",
    "$boolean()", "$type()", "$eval()", "$append()", "$base64encode(1)", "[1,2,3].$uppercase()", "{'a': 1}.$sum()",
    "$nope()", "nope()", "$error('boom')", "undefined()", "(1)(2)", "$string(-1/0)", "{1: 2}", "{true: 1}", "{null: 1}",
    "{[1]: 1}", "$.{a: 1}", "{'a': 1, 'b': 2}{a: b}", "'abc'[0]", "[1,2,3]['a']", "$sqrt(-4)",
    data=None)
add("errors", None, "a.{b: 1}", "a{b: 1}", "a{c: 1, d: 2}", "a{b: 1, b: 2}", "a{'k': 1, 'k': 2}",
    data={"a": [{"b": "x", "c": "x", "d": "x"}, {"b": 5}]})

# --- deep / large -----------------------------------------------------------------------
add("limits", None, "$count([1..100000])", "$sum([1..100000])", "$reduce([1..1000], function($a, $b){ $a + $b })",
    "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(200))",
    "($loop := function($i){ $i >= 20000 ? $i : $loop($i + 1) }; $loop(0))",
    "$string([1..20].($ * 2))", "$join($map([1..50], $string), '')", "$length($join([1..1000].'x'))")

def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for group, cases in C.items():
        path = os.path.join(OUT, group + ".jsonl")
        existing = {}
        if os.path.exists(path):
            for line in open(path, encoding="utf-8"):
                line = line.strip()
                if line:
                    c = json.loads(line)
                    existing[(c["expr"], c.get("dataset"), json.dumps(c.get("data"), sort_keys=True), json.dumps(c.get("bindings"), sort_keys=True))] = c
        with open(path, "w", encoding="utf-8") as f:
            for c in cases:
                key = (c["expr"], c.get("dataset"), json.dumps(c.get("data"), sort_keys=True), json.dumps(c.get("bindings"), sort_keys=True))
                f.write(json.dumps(existing.get(key, c), ensure_ascii=False) + "\n")
                total += 1
    print(f"{total} cases in {len(C)} files")

if __name__ == "__main__":
    main()
