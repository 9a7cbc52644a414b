package store

// jsonSQL writes the JSON expressions of one dialect. Every expression it
// returns reads agno's encodings as they are found in real databases: json
// or jsonb columns on PostgreSQL, JSON text on SQLite, SQL NULL, JSON null,
// and a JSON string that holds the JSON (SQLite session columns before
// agno's encoding fix, run_data of agno 3.0.0a1).
type jsonSQL struct {
	postgres bool
}

// value is a column's JSON value with one level of string encoding undone:
// jsonb on PostgreSQL, JSON text on SQLite (NULL when the text is not
// JSON). colType is the column's type as the layout read it.
func (j jsonSQL) value(column, colType string) string {
	if j.postgres {
		v := column
		if colType != "jsonb" {
			v = "(" + column + ")::jsonb"
		}
		// Only a string that looks like an object or an array is decoded
		// again: PostgreSQL 15 has no cast that fails softly.
		return "(CASE WHEN jsonb_typeof(" + v + ") = 'string' AND (" + v + " #>> '{}') ~ '^\\s*[[{]' THEN (" + v + " #>> '{}')::jsonb ELSE " + v + " END)"
	}
	// SQLite parses JSON text anew for every function: an object (what
	// agno writes) is told by its first character once json_valid has
	// parsed it, so that reading a key from it parses it once more, not
	// twice (json_type would).
	inner := "(" + column + " ->> '$')"
	return "(CASE WHEN json_valid(" + column + ") THEN CASE WHEN substr(" + column + ", 1, 1) = '{' THEN " + column +
		" WHEN json_type(" + column + ") = 'text' THEN CASE WHEN json_valid(" + inner + ") THEN " + inner + " END ELSE " + column + " END END)"
}

// get is the JSON value of key in object v (NULL when absent); on SQLite
// it is JSON text.
func (j jsonSQL) get(v, key string) string {
	if j.postgres {
		return "(" + v + " -> '" + key + "')"
	}
	return "(" + v + " -> '$." + key + "')"
}

// text is the value of key in object v as SQL text (a string unquoted).
func (j jsonSQL) text(v, key string) string {
	if j.postgres {
		return "(" + v + " ->> '" + key + "')"
	}
	return "(" + v + " ->> '$." + key + "')"
}

// present is true when key is in object v with a value other than null.
func (j jsonSQL) present(v, key string) string {
	if j.postgres {
		return "(COALESCE(jsonb_typeof(" + v + " -> '" + key + "'), 'null') <> 'null')"
	}
	return "(COALESCE(json_type(" + v + ", '$." + key + "'), 'null') <> 'null')"
}

// isObject tests that a JSON value is an object.
func (j jsonSQL) isObject(v string) string {
	if j.postgres {
		return "(jsonb_typeof(" + v + ") = 'object')"
	}
	return "(json_type(" + v + ") = 'object')"
}

// nonEmptyArray is true when v is an array with at least one element.
func (j jsonSQL) nonEmptyArray(v string) string {
	if j.postgres {
		return "(jsonb_typeof(" + v + ") = 'array' AND jsonb_array_length(" + v + ") > 0)"
	}
	return "(json_type(" + v + ") = 'array' AND json_array_length(" + v + ") > 0)"
}

// arrayLength is the number of elements of v, 0 when v is not an array.
func (j jsonSQL) arrayLength(v string) string {
	if j.postgres {
		return "COALESCE(jsonb_array_length(CASE WHEN jsonb_typeof(" + v + ") = 'array' THEN " + v + " END), 0)"
	}
	return "COALESCE(json_array_length(CASE WHEN json_type(" + v + ") = 'array' THEN " + v + " END), 0)"
}

// elements is a FROM item over the elements of v when v is an array (none
// otherwise), as alias(value, pos) with pos counting from 0 on both
// dialects in order.
func (j jsonSQL) elements(v, alias string) (from, value, pos string) {
	if j.postgres {
		return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + v + ") = 'array' THEN " + v + " END) WITH ORDINALITY AS " + alias + "(value, pos)",
			alias + ".value", alias + ".pos"
	}
	return "json_each(CASE WHEN json_type(" + v + ") = 'array' THEN " + v + " END) AS " + alias,
		alias + ".value", alias + ".key"
}

// truthy is Python's truth of a JSON value: a non-empty string, array or
// object, a non-zero number, true.
func (j jsonSQL) truthy(v string) string {
	if j.postgres {
		return "(CASE jsonb_typeof(" + v + ") WHEN 'string' THEN " + v + " #>> '{}' <> ''" +
			" WHEN 'array' THEN jsonb_array_length(" + v + ") > 0" +
			" WHEN 'object' THEN " + v + " <> '{}'::jsonb" +
			" WHEN 'number' THEN (" + v + " #>> '{}')::numeric <> 0" +
			" WHEN 'boolean' THEN " + v + " = 'true'::jsonb ELSE false END)"
	}
	return "(CASE json_type(" + v + ") WHEN 'text' THEN (" + v + " ->> '$') <> ''" +
		" WHEN 'array' THEN json_array_length(" + v + ") > 0" +
		" WHEN 'object' THEN " + v + " <> '{}'" +
		" WHEN 'integer' THEN (" + v + " ->> '$') <> 0 WHEN 'real' THEN (" + v + " ->> '$') <> 0" +
		" WHEN 'true' THEN 1 ELSE 0 END)"
}

// jsonText renders a JSON value (from get or value) as JSON text for Go to
// decode.
func (j jsonSQL) jsonText(v string) string {
	if j.postgres {
		return "(" + v + ")::text"
	}
	return v // SQLite's -> and the value expression are JSON text already
}
