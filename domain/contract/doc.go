// Package contract is the ETC service contract (ETCサービス契約) of one
// corporate customer of the leasing company, identified by its lease contract
// number. The stream ID is the lease contract number.
//
// The lease contract system (リース契約管理システム) is outside the domain: the
// command layer looks the lease up and passes what it found as a Lease value;
// this package checks the application against it.
//
// Personal data: address, phone, representative and the direct-debit bank
// account are sealed in domain.Personal with the lease contract number as
// Subject (shredding the contract erases them). The customer's corporate name
// and its alphabet form stay plain: they are printed on cards and invoices,
// which must be kept seven years (電子帳簿保存法).
package contract
