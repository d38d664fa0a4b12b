//! `init-admin`: the account it created or changed.

use seedbake::ops::AdminOutcome;

use super::{Report, Text};

impl Report for AdminOutcome {
    fn text(&self, o: &mut Text) {
        let r = self;
        if r.password_only {
            return say!(
                o,
                "set the password of the account {:?} on {} (nothing else changed)",
                r.username,
                r.target
            );
        }
        let verb = if r.created { "created" } else { "updated" };
        say!(
            o,
            "{verb} the admin account {:?} on {} (role and password set)",
            r.username,
            r.target
        );
    }
}
