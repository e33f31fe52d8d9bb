// `hub!` on schemas that are not the platform's: one hub with its IDs
// inside, and two hubs sharing theirs through `hub_ids!`, so a cross-hub
// reference has the referenced table's ID type.

pub mod notes {
    hubgen_macros::hub!("notes.hubs", notes);
}

pub mod ids {
    hubgen_macros::hub_ids!("shop.hubs");
}

pub mod shop {
    hubgen_macros::hub!("shop.hubs", shop, ids = crate::ids);
}

pub mod billing {
    hubgen_macros::hub!("shop.hubs", billing, ids = crate::ids);
}

fn main() {
    let note = notes::NewNote::new("remember the milk".into());
    let _: Option<notes::ids::NoteId> = note.id;

    let customer = ids::CustomerId::new();
    let order = shop::NewOrder::new(customer);
    assert_eq!(order.status, None, "defaulted columns are optional");
    let invoice = billing::NewInvoice::new(customer);
    let same_type: shop::ids::CustomerId = invoice.customer_id;
    assert_eq!(same_type, customer);

    let paid = shop::OrderFilter {
        status: shop::OrderStatus::Paid.into(),
        ..Default::default()
    };
    assert!(!paid.status.matches_all());
    let first = shop::PageRequest::first(10).by(shop::OrderSort::Status).desc();
    assert_eq!(first.sort, shop::OrderSort::Status);
    assert_eq!((shop::MIGRATIONS.len(), billing::MIGRATIONS.len(), notes::MIGRATIONS.len()), (1, 1, 1));
}
