"""Customer master: accounts, contacts, contact points with consent, addresses, lifecycle stages."""
