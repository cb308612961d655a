//! Plain-text tables for terminal output (`argus diff`, `argus audit`, `argus demo`).

/// A table: every column padded to its widest cell (counted in characters), columns separated
/// by two spaces, trailing spaces trimmed, one `\n`-terminated line for the header and each row.
pub fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell_in_characters_and_lines_trimmed() {
        let header = ["A".to_owned(), "NAME".to_owned(), "END".to_owned()];
        let rows = [
            ["ééé".to_owned(), "x".to_owned(), String::new()],
            ["b".to_owned(), "longer".to_owned(), "z".to_owned()],
        ];
        assert_eq!(
            table(&header, &rows),
            "A    NAME    END\nééé  x\nb    longer  z\n"
        );
    }
}
