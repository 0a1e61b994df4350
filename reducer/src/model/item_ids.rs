//! Lists of conversation item ids, kept small: an inference call's request
//! lists the whole history it resent, so these lists are what a reduced
//! state is mostly made of.
//!
//! Invariants:
//! - An id is `conversation_item:<n>` (n >= 1, the reducer's numbering); the
//!   list keeps only the numbers and writes the strings when serialized, so
//!   `state.json` is the same bytes as a list of strings would give.
//! - A list is immutable once built and cheap to clone: equal lists built
//!   from one another share one allocation (`Arc`), so a bundle that names
//!   the same request again and again costs one list, not one per event.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;
use serde::ser::SerializeSeq;

/// What every conversation item id starts with.
pub const ITEM_ID_PREFIX: &str = "conversation_item:";

/// The id of conversation item number `number` (`conversation_item:<number>`).
pub fn item_id(number: u32) -> String {
    format!("{ITEM_ID_PREFIX}{number}")
}

/// The number of an item id, if it is one.
pub fn item_number(item_id: &str) -> Option<u32> {
    let digits = item_id.strip_prefix(ITEM_ID_PREFIX)?;
    // Only the reducer's own spelling: no sign, no leading zero.
    if digits.starts_with(['+', '0']) {
        return None;
    }
    digits.parse().ok().filter(|&number| number > 0)
}

/// A list of conversation item ids, in order (repeats allowed).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ItemIdList {
    numbers: Arc<[u32]>,
}

impl ItemIdList {
    /// The list of items with these numbers.
    pub fn from_numbers(numbers: Vec<u32>) -> ItemIdList {
        ItemIdList {
            numbers: numbers.into(),
        }
    }

    /// The item numbers, in order.
    pub fn numbers(&self) -> &[u32] {
        &self.numbers
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// The ids, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = String> + '_ {
        self.numbers.iter().map(|&number| item_id(number))
    }

    /// The id at `index`.
    pub fn get(&self, index: usize) -> Option<String> {
        self.numbers.get(index).map(|&number| item_id(number))
    }

    pub fn contains(&self, item_id: &str) -> bool {
        item_number(item_id).is_some_and(|number| self.numbers.contains(&number))
    }

    /// The ids as strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().collect()
    }

    /// Whether both lists share one allocation (equal lists built from one another).
    pub fn shares_storage_with(&self, other: &ItemIdList) -> bool {
        Arc::ptr_eq(&self.numbers, &other.numbers)
    }
}

impl fmt::Debug for ItemIdList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> TryFrom<&[S]> for ItemIdList {
    type Error = String;

    /// The list of these ids; an error names the first string that is not an item id.
    fn try_from(ids: &[S]) -> Result<ItemIdList, String> {
        ids.iter()
            .map(|id| {
                let id = id.as_ref();
                item_number(id).ok_or_else(|| format!("`{id}` is not a conversation item id"))
            })
            .collect::<Result<Vec<u32>, String>>()
            .map(ItemIdList::from_numbers)
    }
}

impl Serialize for ItemIdList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.numbers.len()))?;
        for &number in self.numbers.iter() {
            seq.serialize_element(&ItemIdText(number))?;
        }
        seq.end()
    }
}

/// An id serialized as its string without building one.
struct ItemIdText(u32);

impl Serialize for ItemIdText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{ITEM_ID_PREFIX}{}", self.0))
    }
}

impl<'de> Deserialize<'de> for ItemIdList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ids = Vec::<String>::deserialize(deserializer)?;
        ItemIdList::try_from(ids.as_slice()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_list_of_id_strings() {
        let list = ItemIdList::from_numbers(vec![1, 10, 2, 2]);
        let strings = vec![
            "conversation_item:1",
            "conversation_item:10",
            "conversation_item:2",
            "conversation_item:2",
        ];
        assert_eq!(
            serde_json::to_string_pretty(&list).ok(),
            serde_json::to_string_pretty(&strings).ok()
        );
        let back: Result<ItemIdList, _> = serde_json::from_str(
            r#"["conversation_item:1","conversation_item:10","conversation_item:2","conversation_item:2"]"#,
        );
        assert_eq!(back.ok(), Some(list.clone()));
        assert!(list.contains("conversation_item:10"));
        assert!(!list.contains("conversation_item:3"));
        assert_eq!(list.get(1).as_deref(), Some("conversation_item:10"));
    }

    #[test]
    fn only_the_reducers_spelling_is_an_id() {
        assert_eq!(item_number("conversation_item:7"), Some(7));
        for not_an_id in [
            "conversation_item:0",
            "conversation_item:07",
            "conversation_item:+7",
            "conversation_item:",
            "conversation_item:x",
            "item:7",
        ] {
            assert_eq!(item_number(not_an_id), None, "{not_an_id}");
        }
    }
}
