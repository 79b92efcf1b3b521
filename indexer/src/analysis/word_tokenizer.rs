use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Splits text into words on anything that is not a letter or a digit, but keeps the names of
/// programming languages whole: a `#` or `+`s right after a word (`C#`, `F#`, `C++`) and a dot
/// right before one (`.NET`) belong to it. Quiz questions and offers are full of them, and
/// `C#` cut to `c` would be a French stop word.
#[derive(Clone, Default)]
pub struct WordTokenizer;

/// The words of one text, as [`WordTokenizer`] cut them.
pub struct WordTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream {
        WordTokenStream { tokens: split_words(text), next: 0 }
    }
}

impl TokenStream for WordTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn split_words(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        // ".net": a dot glued to the word, not preceded by a letter or digit (x.net is two words).
        // The character before the dot is read whole: a byte of "é" is not a letter.
        let mut from = start;
        if start > 0 && bytes[start - 1] == b'.' && !text[..start - 1].chars().next_back().is_some_and(char::is_alphanumeric) {
            from = start - 1;
        }
        // "c#", "f#", "c++": the suffix must end the word.
        let mut to = end;
        let mut j = end;
        while j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'#') && j - end < 2 {
            j += 1;
        }
        if j > end && !text[j..].chars().next().is_some_and(char::is_alphanumeric) {
            to = j;
            while let Some(&(i, _)) = chars.peek() {
                if i >= to {
                    break;
                }
                chars.next();
            }
        }
        tokens.push(Token { offset_from: from, offset_to: to, position: tokens.len(), text: text[from..to].to_string(), position_length: 1 });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split_words(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn splits_on_punctuation_and_keeps_language_names() {
        assert_eq!(words("l'école, c'est   ça!"), vec!["l", "école", "c", "est", "ça"]);
        assert_eq!(words("C#, F# et C++ (.NET 8)"), vec!["C#", "F#", "et", "C++", ".NET", "8"]);
        assert_eq!(words("a+b=c x.net 1+++"), vec!["a", "b", "c", "x", "net", "1++"]);
        assert_eq!(words("Node.js"), vec!["Node", "js"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn characters_around_a_name_are_read_whole() {
        // A byte of a multi-byte character is not a letter: "é" before the dot is one, "—"
        // after the suffix is not.
        assert_eq!(words("café.net"), vec!["café", "net"]);
        assert_eq!(words("C#—F#"), vec!["C#", "F#"]);
        assert_eq!(words("C#é"), vec!["C", "é"]);
        assert_eq!(words("—.NET"), vec![".NET"]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Élève en C#";
        for t in split_words(text) {
            assert_eq!(&text[t.offset_from..t.offset_to], t.text);
        }
    }
}
